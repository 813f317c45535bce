# pam-accesscontrol. `make demo` and `make test` are all the set-up a fresh
# Debian 12 machine needs: each target installs the Debian packages it
# lacks (apt-get update once, then apt-get install -y) and Go fetches the
# modules of go.mod through the module proxy.

SHELL := /bin/bash
GO    ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BUILD := build
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FUZZTIME ?= 20s
export CGO_ENABLED := 1
# Tests build programs with the same go.
export PATH := $(dir $(GO)):$(PATH)

# Debian packages, by what needs them.
BUILD_DEBS := gcc libc6-dev libpam0g-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
              libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
TEST_DEBS  := $(BUILD_DEBS) libnss-wrapper libpam-wrapper pamtester openssh-server openssh-client sshpass \
              dbus-daemon python3-dbusmock xvfb xdotool imagemagick
DEMO_DEBS  := $(BUILD_DEBS) libnss-wrapper libpam-wrapper pamtester dbus-daemon
BENCH_DEBS := $(BUILD_DEBS) libpam-wrapper pamtester

# ensure-debs installs the packages of $(1) that are not installed yet.
define ensure-debs
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "== installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

# make install: DESTDIR for packaging, PREFIX for the programs. The PAM
# module goes where this system's PAM looks for modules.
PREFIX   ?= /usr
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
PAMDIR   ?= /lib/$(MULTIARCH)/security
SYSCONF  ?= /etc

.PHONY: all build test demo bench fuzz clean install check-go deps-build deps-test deps-demo deps-bench

all: build

check-go:
	@$(GO) version >/dev/null 2>&1 || { echo "Go 1.26 or newer is needed (https://go.dev/dl/ into /usr/local/go)"; exit 1; }

deps-build: check-go
	$(call ensure-debs,$(BUILD_DEBS))
deps-test: check-go
	$(call ensure-debs,$(TEST_DEBS))
deps-demo: check-go
	$(call ensure-debs,$(DEMO_DEBS))
deps-bench: check-go
	$(call ensure-debs,$(BENCH_DEBS))

CFLAGS  ?= -O2 -g
SHIM_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SHIM_LDFLAGS := -shared -Wl,--version-script=pammod/pam_accesscontrol.map -Wl,-z,relro,-z,now,-z,noexecstack
SHIM_SRC := pammod/pam_accesscontrol.c pammod/wire.c pammod/serve.c

# Go's build cache makes the Go programs cheap to rebuild every time.
build: deps-build $(BUILD)/pam_accesscontrol.so
	$(GO) build -trimpath -o $(BUILD)/pam-accesscontrol ./installer
	$(GO) build -trimpath -o $(BUILD)/pam-accesscontrol-helper ./pammod/helper
	$(GO) build -trimpath -o $(BUILD)/pam-accesscontrol-notifier ./notifier

$(BUILD)/pam_accesscontrol.so: $(SHIM_SRC) pammod/shim.h pammod/pam_accesscontrol.map
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(SHIM_CFLAGS) $(SHIM_LDFLAGS) -o $@ $(SHIM_SRC) -lpam

test: deps-test build
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	PAMAC_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./rules
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./pammod/protocol

demo: deps-demo build
	$(GO) build -o $(BUILD)/demo ./examples/demo
	@$(SUDO) $(BUILD)/demo -build $(BUILD) -examples examples

bench: deps-bench build
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./rules ./rules/starhost
	$(GO) run ./test/pambench -build $(BUILD)

# A longer fuzz run than `make test` does, for a developer's machine.
fuzz: deps-test
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=5m ./rules

install: build
	install -D -m 0644 $(BUILD)/pam_accesscontrol.so $(DESTDIR)$(PAMDIR)/pam_accesscontrol.so
	install -D -m 0755 $(BUILD)/pam-accesscontrol-helper $(DESTDIR)$(PREFIX)/libexec/pam-accesscontrol/pam-accesscontrol-helper
	install -D -m 0755 $(BUILD)/pam-accesscontrol $(DESTDIR)$(PREFIX)/sbin/pam-accesscontrol
	install -D -m 0755 $(BUILD)/pam-accesscontrol-notifier $(DESTDIR)$(PREFIX)/bin/pam-accesscontrol-notifier
	install -D -m 0644 notifier/org.pamaccesscontrol.Notifier.conf $(DESTDIR)$(PREFIX)/share/dbus-1/system.d/org.pamaccesscontrol.Notifier.conf
	install -D -m 0644 notifier/pam-accesscontrol-notifier.desktop $(DESTDIR)$(SYSCONF)/xdg/autostart/pam-accesscontrol-notifier.desktop
	install -d -m 0755 $(DESTDIR)$(SYSCONF)/pam-accesscontrol.d/rules.d $(DESTDIR)$(SYSCONF)/pam-accesscontrol.d/plugins
	[ -e $(DESTDIR)$(SYSCONF)/pam-accesscontrol.d/pam-accesscontrol.conf ] || \
	  install -m 0644 examples/pam-accesscontrol.conf $(DESTDIR)$(SYSCONF)/pam-accesscontrol.d/pam-accesscontrol.conf.example

clean:
	rm -rf $(BUILD)
