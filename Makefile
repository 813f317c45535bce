# pam-accesscontrol. `make demo` and `make test` are all the set-up a fresh
# Debian 12 machine needs: each target installs the Debian packages it
# lacks (apt-get update once, then apt-get install -y) and Go fetches the
# modules of go.mod through the module proxy.

SHELL := /bin/bash
GO    ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BUILD := build
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Fuzzing in make test runs a number of inputs, not a time: with a time
# Go 1.26's coordinator can fail a target with a bare "context deadline
# exceeded" when the time runs out on a busy machine (golang/go#75804,
# fixed in Go 1.27), and that failed CI once. 200,000 inputs is about 20 s
# of the slowest target, FuzzParse, here. Each new input worth keeping is
# made smaller for at most 10,000 runs, not Go's default of 60 s each (a
# clean machine's first run finds many).
FUZZ_EXECS ?= 200000
FUZZ_FLAGS = -fuzztime=$(FUZZ_EXECS)x -fuzzminimizetime=10000x
# go test's -timeout, per test binary. go's default, 10 minutes, is
# about what test/ takes on a busy machine (500 s seen); 60 minutes still
# lets a hung test fail with every goroutine's stack inside CI's 90
# (deps, build, vet and fuzz take the rest), not by CI killing the job
# with nothing to read.
TEST_TIMEOUT ?= 60m
export CGO_ENABLED := 1
# Tests build programs with the same go.
export PATH := $(dir $(GO)):$(PATH)

# Debian packages, by what needs them: the module, helper and command
# (BASE_DEBS) link libc and libpam; the notifier (GLFW, for X11 and for
# Wayland) the GUI development libraries.
BASE_DEBS  := gcc libc6-dev libpam0g-dev
BUILD_DEBS := $(BASE_DEBS) pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
              libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev libxkbcommon-dev
# LemonLDAP::NG's OpenID provider, run headless under plackup for the TOKEN
# tests (test/llng_test.go): its portal, the OIDC modules' and the captcha's
# Perl dependencies, and plackup
LLNG_DEBS  := liblemonldap-ng-portal-perl libstring-random-perl libgd-securityimage-perl libimage-magick-perl \
              libconvert-base32-perl libio-string-perl libmime-tools-perl libplack-perl openssl
# make deb and make rpm: dpkg-shlibdeps, and rpm for its elfdeps
PKG_DEBS   := dpkg-dev rpm
TEST_DEBS  := $(BUILD_DEBS) $(PKG_DEBS) lintian libnss-wrapper libpam-wrapper pamtester openssh-server openssh-client sshpass \
              dbus-daemon python3-dbusmock xvfb xdotool imagemagick rsyslog rsyslog-gnutls python3-aiosmtpd gnupg python3 \
              libpam-python python3-requests python3-passlib python3-gnupg python3-pygresql postgresql \
              libnss-extrausers systemd weston curl nginx-light $(LLNG_DEBS) redis-server
# Debian packages whose files tests run but that are never installed
# (test/debfiles.sh): pam-python's source for its own test.py, and
# libpam-mklocaluser, a pam_python module whose install would add itself
# to this machine's common-session.
TEST_DEBFILES := src:pam-python libpam-mklocaluser
# the demo runs the module, helper and command only: no notifier, no GUI libraries
DEMO_DEBS  := $(BASE_DEBS) libnss-wrapper libpam-wrapper pamtester dbus-daemon
# wrk: the load of serve's benchmark (test/servebench)
BENCH_DEBS := $(BUILD_DEBS) libpam-wrapper pamtester python3 libpam-python wrk

# Open Policy Agent, for the OPA tests and benchmarks: built from its Go
# module (a test tool, not a dependency of the product's go.mod) into
# build/tools, once per version.
OPA_VERSION := v1.22.4
OPA_BIN     := $(abspath $(BUILD))/tools/opa
# zitadel/oidc v3's example OpenID provider, for the TOKEN and enroll tests
# and the benchmarks: test/oidcprovider is a module of its own (zitadel/oidc
# stays out of the product's go.mod), built into build/tools, where the
# tests look for it first
OIDCPROVIDER_BIN := $(abspath $(BUILD))/tools/oidcprovider
# nfpm, which makes the .deb and .rpm packages: built the same way
NFPM_VERSION := v2.45.2
NFPM_BIN     := $(abspath $(BUILD))/tools/nfpm

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
# module goes where this system's PAM keeps its modules, found by where
# pam_unix.so is (multiarch Debian, Fedora's lib64, Arch's lib).
PREFIX   ?= /usr
SYSCONF  ?= /etc
PAMDIR   ?= $(shell dirname $$(ls /lib/*/security/pam_unix.so /usr/lib/*/security/pam_unix.so \
              /usr/lib64/security/pam_unix.so /usr/lib/security/pam_unix.so /lib/security/pam_unix.so 2>/dev/null | head -n1) 2>/dev/null)
VERSION  ?= 0.99.0

.PHONY: all build build-base test demo bench fuzz clean install uninstall deb rpm nfpm-tool check-go deps-base deps-build deps-test deps-demo deps-bench opa-tool oidcprovider-tool

all: build

check-go:
	@$(GO) version >/dev/null 2>&1 || { echo "Go 1.26 or newer is needed (https://go.dev/dl/ into /usr/local/go)"; exit 1; }

deps-base: check-go
	$(call ensure-debs,$(BASE_DEBS))
deps-build: check-go
	$(call ensure-debs,$(BUILD_DEBS))
deps-test: check-go opa-tool nfpm-tool oidcprovider-tool
	$(call ensure-debs,$(TEST_DEBS))
deps-demo: check-go
	$(call ensure-debs,$(DEMO_DEBS))
deps-bench: check-go opa-tool oidcprovider-tool
	$(call ensure-debs,$(BENCH_DEBS))

# nfpm-tool skips the build when the binary there is already that version.
nfpm-tool: check-go
	@if ! $(GO) version -m $(NFPM_BIN) 2>/dev/null | grep -q 'mod[[:space:]]*github.com/goreleaser/nfpm/v2[[:space:]]*$(NFPM_VERSION)'; then \
	  echo "== building nfpm $(NFPM_VERSION) into $(dir $(NFPM_BIN))"; \
	  mkdir -p $(dir $(NFPM_BIN)) && cd / && GOBIN=$(dir $(NFPM_BIN)) CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
	    $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION); \
	fi

# oidcprovider-tool: Go's build cache makes it cheap to build every time.
oidcprovider-tool: check-go
	@mkdir -p $(dir $(OIDCPROVIDER_BIN))
	cd test/oidcprovider && CGO_ENABLED=0 GOFLAGS=-buildvcs=false $(GO) build -o $(OIDCPROVIDER_BIN) .

# opa-tool skips the build when the binary there is already that version.
opa-tool: check-go
	@if ! $(GO) version -m $(OPA_BIN) 2>/dev/null | grep -q 'mod[[:space:]]*github.com/open-policy-agent/opa[[:space:]]*$(OPA_VERSION)'; then \
	  echo "== building opa $(OPA_VERSION) into $(dir $(OPA_BIN))"; \
	  mkdir -p $(dir $(OPA_BIN)) && cd / && GOBIN=$(dir $(OPA_BIN)) CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
	    $(GO) install github.com/open-policy-agent/opa@$(OPA_VERSION); \
	fi

CFLAGS  ?= -O2 -g
SHIM_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SHIM_LDFLAGS := -shared -Wl,--version-script=pammod/pam_accesscontrol.map -Wl,-z,relro,-z,now,-z,noexecstack
SHIM_SRC := pammod/pam_accesscontrol.c pammod/wire.c pammod/serve.c pammod/authwatch.c

# Go's build cache makes the Go programs cheap to rebuild every time.
# build-base: the module, helper and command (the pam-accesscontrol
# package's programs); build adds the notifier.
build-base: deps-base $(BUILD)/pam_accesscontrol.so
	$(GO) build -trimpath -buildmode=pie -o $(BUILD)/pam-accesscontrol ./installer
	@# the helper twice: in full, and lean (-tags lean), the one the module
	@# starts for each call, which hands the calls it cannot run to the
	@# full one beside it (pammod/helper/lean.go)
	$(GO) build -trimpath -buildmode=pie -o $(BUILD)/pam-accesscontrol-helper-full ./pammod/helper
	$(GO) build -trimpath -buildmode=pie -tags lean -o $(BUILD)/pam-accesscontrol-helper ./pammod/helper

build: deps-build build-base
	$(GO) build -trimpath -buildmode=pie -o $(BUILD)/pam-accesscontrol-notifier ./notifier
	@# GLFW is built for X11 or for Wayland: the notifier twice
	$(GO) build -trimpath -buildmode=pie -tags wayland -o $(BUILD)/pam-accesscontrol-notifier-wayland ./notifier

$(BUILD)/pam_accesscontrol.so: $(SHIM_SRC) pammod/shim.h pammod/pam_accesscontrol.map
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(SHIM_CFLAGS) $(SHIM_LDFLAGS) -o $@ $(SHIM_SRC) -lpam

test: deps-test build
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	@# the lean helper's build (pammod/helper/lean.go): vetted, and its
	@# safety net (a plugin or OPA rule it was not to get fails closed)
	$(GO) vet -tags lean ./pammod/...
	$(GO) test -tags lean -count=1 -run '^TestLean' ./pammod/call
	bash test/debfiles.sh $(BUILD)/debian $(TEST_DEBFILES)
	PAMAC_REQUIRE_TOOLS=1 PAMAC_DEBIAN_SOURCES=$(abspath $(BUILD)/debian) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' $(FUZZ_FLAGS) ./rules
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' $(FUZZ_FLAGS) ./pammod/protocol
	$(GO) test -run='^$$' -fuzz='^FuzzTokens$$' $(FUZZ_FLAGS) ./rules/starhost/pylex

demo: deps-demo build-base
	@# the same flags as the programs: a cold build cache compiles the standard library once
	$(GO) build -trimpath -buildmode=pie -o $(BUILD)/demo ./examples/demo
	@$(SUDO) $(BUILD)/demo -build $(BUILD) -examples examples

bench: deps-bench build
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./rules ./rules/starhost/...
	$(GO) run ./test/pambench -build $(BUILD)
	@# pam-accesscontrol serve beside a bare PAM server over the same stack (wrk)
	$(GO) run ./test/servebench -build $(BUILD)
	@# an OPA decision's cost per login, against a real opa (build/tools)
	$(GO) test -run='^$$' -bench='^BenchmarkOPA' -benchtime=50x -count=1 ./test
	@# a TOKEN login's cost, cold and warm cache, against zitadel/oidc's example provider
	$(GO) test -run='^$$' -bench='^BenchmarkOIDC' -benchtime=30x -count=1 ./test

# A longer fuzz run than `make test` does, for a developer's machine. A
# bare "context deadline exceeded" at the end, with no "Failing input
# written", is Go's golang/go#75804, not a finding.
fuzz: deps-test
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=5m ./rules
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=5m ./pammod/protocol
	$(GO) test -run='^$$' -fuzz='^FuzzTokens$$' -fuzztime=5m ./rules/starhost/pylex

# The files make install puts in place, DESTINATION:SOURCE:MODE: the
# server's (pam-accesscontrol) and the desktop's (pam-accesscontrol-
# notifier, the one with GUI libraries). make deb and make rpm package the
# same lists (installer/dist/nfpm/package.sh).
UNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALLED_BASE = \
	$(PAMDIR)/pam_accesscontrol.so:$(BUILD)/pam_accesscontrol.so:0644 \
	$(PREFIX)/libexec/pam-accesscontrol/pam-accesscontrol-helper:$(BUILD)/pam-accesscontrol-helper:0755 \
	$(PREFIX)/libexec/pam-accesscontrol/pam-accesscontrol-helper-full:$(BUILD)/pam-accesscontrol-helper-full:0755 \
	$(PREFIX)/libexec/pam-accesscontrol/remove-pam-lines:installer/dist/remove-pam-lines:0755 \
	$(PREFIX)/libexec/pam-accesscontrol/check-rules:installer/dist/check-rules:0755 \
	$(PREFIX)/sbin/pam-accesscontrol:$(BUILD)/pam-accesscontrol:0755 \
	$(UNITDIR)/pam-accesscontrol-helper.socket:installer/dist/pam-accesscontrol-helper.socket:0644 \
	$(UNITDIR)/pam-accesscontrol-helper.service:installer/dist/pam-accesscontrol-helper.service:0644 \
	$(UNITDIR)/pam-accesscontrol-deliver.service:installer/dist/pam-accesscontrol-deliver.service:0644 \
	$(UNITDIR)/pam-accesscontrol-deliver.timer:installer/dist/pam-accesscontrol-deliver.timer:0644 \
	$(UNITDIR)/pam-accesscontrol-deliver.path:installer/dist/pam-accesscontrol-deliver.path:0644 \
	$(UNITDIR)/pam-accesscontrol-enroll-refresh.service:installer/dist/pam-accesscontrol-enroll-refresh.service:0644 \
	$(UNITDIR)/pam-accesscontrol-enroll-refresh.timer:installer/dist/pam-accesscontrol-enroll-refresh.timer:0644 \
	$(UNITDIR)/pam-accesscontrol-serve.socket:installer/dist/pam-accesscontrol-serve.socket:0644 \
	$(UNITDIR)/pam-accesscontrol-serve.service:installer/dist/pam-accesscontrol-serve.service:0644 \
	$(PREFIX)/share/man/man8/pam-accesscontrol.8:installer/dist/pam-accesscontrol.8:0644 \
	$(PREFIX)/share/man/man8/pam_accesscontrol.8:installer/dist/pam_accesscontrol.8:0644 \
	$(PREFIX)/share/man/man5/pam-accesscontrol.conf.5:installer/dist/pam-accesscontrol.conf.5:0644 \
	$(PREFIX)/share/bash-completion/completions/pam-accesscontrol:installer/dist/pam-accesscontrol.bash-completion:0644 \
	$(PREFIX)/share/doc/pam-accesscontrol/examples/pam-accesscontrol.conf:examples/pam-accesscontrol.conf:0644 \
	$(PREFIX)/share/doc/pam-accesscontrol/examples/plugins/officehours.star:examples/plugins/officehours.star:0644 \
	$(PREFIX)/share/doc/pam-accesscontrol/examples/plugins/reason.star:examples/plugins/reason.star:0644 \
	$(PREFIX)/share/doc/pam-accesscontrol/examples/plugins/networks.star:examples/plugins/networks.star:0644 \
	$(PREFIX)/share/doc/pam-accesscontrol/examples/mail/mail-notification.conf:examples/mail/mail-notification.conf:0644 \
	$(PREFIX)/share/doc/pam-accesscontrol/examples/mail/login-mail-mapping.conf:examples/mail/login-mail-mapping.conf:0644
INSTALLED_NOTIFIER = \
	$(PREFIX)/bin/pam-accesscontrol-notifier:notifier/pam-accesscontrol-notifier.sh:0755 \
	$(PREFIX)/libexec/pam-accesscontrol/pam-accesscontrol-notifier-x11:$(BUILD)/pam-accesscontrol-notifier:0755 \
	$(PREFIX)/libexec/pam-accesscontrol/pam-accesscontrol-notifier-wayland:$(BUILD)/pam-accesscontrol-notifier-wayland:0755 \
	$(PREFIX)/share/man/man1/pam-accesscontrol-notifier.1:notifier/pam-accesscontrol-notifier.1:0644 \
	$(PREFIX)/share/dbus-1/system.d/org.pamaccesscontrol.Notifier.conf:notifier/org.pamaccesscontrol.Notifier.conf:0644 \
	$(SYSCONF)/xdg/autostart/pam-accesscontrol-notifier.desktop:notifier/pam-accesscontrol-notifier.desktop:0644
INSTALLED = $(INSTALLED_BASE) $(INSTALLED_NOTIFIER)

CONFFILE = $(SYSCONF)/pam-accesscontrol.d/pam-accesscontrol.conf

install: build
	@test -n "$(PAMDIR)" || { echo "no PAM module directory found (where is pam_unix.so?): set PAMDIR"; exit 1; }
	@for f in $(INSTALLED); do \
	  dst=$${f%%:*}; rest=$${f#*:}; src=$${rest%%:*}; mode=$${rest##*:}; \
	  install -D -m $$mode $$src $(DESTDIR)$$dst || exit 1; echo "installed $(DESTDIR)$$dst"; \
	done
	install -d -m 0755 $(DESTDIR)$(SYSCONF)/pam-accesscontrol.d/rules.d $(DESTDIR)$(SYSCONF)/pam-accesscontrol.d/plugins
	install -d -m 0700 $(DESTDIR)/var/spool/pam-accesscontrol
	install -d -m 0700 $(DESTDIR)/var/lib/pam-accesscontrol
	@# the config is the admin's: written once, never overwritten
	@[ -e $(DESTDIR)$(CONFFILE) ] || install -m 0644 installer/dist/pam-accesscontrol.conf $(DESTDIR)$(CONFFILE)

# uninstall removes what install put in place, and leaves the admin's
# config and rules.
uninstall:
	@for f in $(INSTALLED); do dst=$${f%%:*}; rm -f $(DESTDIR)$$dst && echo "removed $(DESTDIR)$$dst"; done
	-rmdir $(DESTDIR)$(PREFIX)/libexec/pam-accesscontrol $(DESTDIR)$(PREFIX)/share/doc/pam-accesscontrol/examples/plugins \
	  $(DESTDIR)$(PREFIX)/share/doc/pam-accesscontrol/examples/mail \
	  $(DESTDIR)$(PREFIX)/share/doc/pam-accesscontrol/examples $(DESTDIR)$(PREFIX)/share/doc/pam-accesscontrol 2>/dev/null

# make deb and make rpm: this build's two packages, pam-accesscontrol and
# pam-accesscontrol-notifier, by nfpm from installer/dist/nfpm, in
# build/pkg-deb and build/pkg-rpm. Their dependencies are what the
# binaries link (dpkg-shlibdeps, rpm's elfdeps); the config is a conffile;
# removal takes the module's lines out of /etc/pam.d first. Debian puts
# systemd units in /lib, Fedora in /usr/lib; the PAM module goes where
# each keeps them.
deb: PAMDIR := /lib/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/security
deb: UNITDIR := /lib/systemd/system
rpm: PAMDIR := /usr/$(if $(filter 64,$(shell getconf LONG_BIT)),lib64,lib)/security
rpm: UNITDIR := /usr/lib/systemd/system
deb rpm: build nfpm-tool
	$(call ensure-debs,$(PKG_DEBS))
	BUILD=$(BUILD) VERSION=$(VERSION) NFPM=$(NFPM_BIN) INSTALLED_BASE="$(INSTALLED_BASE)" \
	  INSTALLED_NOTIFIER="$(INSTALLED_NOTIFIER)" installer/dist/nfpm/package.sh $@

clean:
	rm -rf $(BUILD)
