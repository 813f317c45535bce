package test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fleetOPA is a real OPA with pam-accesscontrol's fleet policies
// (testdata/opa-fleet) and data.fleet.allowed = ["ops"].
func fleetOPA(t *testing.T, args ...string) *opaServer {
	t.Helper()
	o := startOPA(t, "", append(args, "testdata/opa-fleet")...)
	o.putData(t, "fleet/allowed", `["ops"]`)
	return o
}

// TestOPAFallback: OPA stopped, hanging, answering HTTP 500, a wrong type
// or no value, and a proxy in front of it answering HTML: OPA_FALLBACK
// decides (CLOSE unless set to OPEN), one log line says why, the audit
// trail has an opa_fallback event, and no login waits longer than
// OPA_TIMEOUT and a little.
func TestOPAFallback(t *testing.T) {
	o := fleetOPA(t)
	hung := fleetOPA(t)
	dead := fleetOPA(t)
	dead.kill(t)
	html := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go html.Serve(l)
	defer html.Close()
	htmlURL := "http://" + l.Addr().String()
	etc := newOPAEtc(t, "frontend")

	const timeout = 2 // OPA_TIMEOUT, seconds
	tests := []struct {
		name, url, authz string
		log              string // in the one fallback line
	}{
		{"OPA stopped", dead.URL, "fleet/authz", "connection refused"},
		{"OPA hanging", hung.URL, "fleet/authz", fmt.Sprintf("within %ds", timeout)},
		{"HTTP 500", o.URL, "broken", "HTTP 500 (internal_error"},
		{"allow not a boolean", o.URL, "garbage", `allow is "\"yes\"", not a boolean`},
		{"no policy at the path", o.URL, "nosuch/authz", "no value at that data path"},
		{"non-JSON", htmlURL, "fleet/authz", "not a JSON object"},
	}
	hung.stop(t)
	defer hung.cont(t)
	for _, fallback := range []string{"", "CLOSE", "OPEN"} {
		for _, tt := range tests {
			name := "OPA_FALLBACK:" + fallback
			if fallback == "" {
				name = "no OPA_FALLBACK"
			}
			t.Run(tt.name+", "+name, func(t *testing.T) {
				settings := []string{"OPA_AUTHZ:" + tt.authz, fmt.Sprintf("OPA_TIMEOUT:%d", timeout)}
				if fallback != "" {
					settings = append(settings, "OPA_FALLBACK:"+fallback)
				}
				s := newPAMStack(t, "")
				audit := filepath.Join(s.dir, "audit.jsonl")
				settings = append(settings, "AUDIT_LOG:"+audit)
				must(t, os.WriteFile(s.rules, []byte(opaRules(tt.url, settings...)), 0o644))
				mark := sink.Mark()
				out, code, took := etc.pamtester(t, s, "", []string{"rhost=192.0.2.10"}, "ops", "authenticate")
				want := 1
				if fallback == "OPEN" {
					want = 0
				}
				if code != want {
					t.Fatalf("exit %d, want %d\n%s\n%s", code, want, out, strings.Join(sink.Since(mark), "\n"))
				}
				if limit := time.Duration(timeout+3) * time.Second; took > limit {
					t.Errorf("the login took %v, more than OPA_TIMEOUT:%d and 3 s", took, timeout)
				}
				lines := grep(sink.Since(mark), "OPA for \"ops\"")
				if len(lines) != 1 || !strings.Contains(lines[0], tt.log) || !strings.Contains(lines[0], "OPA_FALLBACK:") {
					t.Errorf("want one fallback line saying %q:\n%s", tt.log, strings.Join(sink.Since(mark), "\n"))
				}
				events, _ := os.ReadFile(audit)
				if !strings.Contains(string(events), `"event":"opa_fallback"`) {
					t.Errorf("no opa_fallback event:\n%s", events)
				}
			})
		}
	}
}

// TestOPACache: with OPA_CACHE, the last OPEN OPA gave stands while OPA
// cannot be reached, for the same user, service and remote host, for as
// long as set; a CLOSE from OPA is never cached into an OPEN.
func TestOPACache(t *testing.T) {
	o := fleetOPA(t)
	etc := newOPAEtc(t, "frontend")
	s := newPAMStack(t, "")
	audit := filepath.Join(s.dir, "audit.jsonl")
	must(t, os.WriteFile(s.rules, []byte(opaRules(o.URL, "OPA_AUTHZ:fleet/authz", "OPA_TIMEOUT:1", "OPA_CACHE:4",
		"AUDIT_LOG:"+audit)), 0o644))
	login := func(user, rhost string) (int, string) {
		t.Helper()
		mark := sink.Mark()
		out, code, _ := etc.pamtester(t, s, "", []string{"rhost=" + rhost}, user, "authenticate")
		return code, out + strings.Join(sink.Since(mark), "\n")
	}
	if code, out := login("ops", "192.0.2.10"); code != 0 {
		t.Fatalf("OPA up: %d\n%s", code, out)
	}
	if code, out := login("dev", "192.0.2.10"); code != 1 {
		t.Fatalf("OPA up, dev: %d\n%s", code, out)
	}
	o.stop(t)
	if code, out := login("ops", "192.0.2.10"); code != 0 || !strings.Contains(out, "stands (OPA_CACHE:4)") {
		t.Fatalf("OPA hanging, ops's cached OPEN: %d\n%s", code, out)
	}
	for _, other := range [][2]string{{"dev", "192.0.2.10"}, {"ops", "192.0.2.11"}, {"root", "192.0.2.10"}} {
		if code, out := login(other[0], other[1]); code != 1 {
			t.Errorf("OPA hanging, %s from %s: %d\n%s", other[0], other[1], code, out)
		}
	}
	time.Sleep(4 * time.Second)
	if code, out := login("ops", "192.0.2.10"); code != 1 || !strings.Contains(out, "OPA_FALLBACK:CLOSE") {
		t.Errorf("OPA hanging, past OPA_CACHE: %d\n%s", code, out)
	}
	o.cont(t)
	if code, _ := login("ops", "192.0.2.10"); code != 0 {
		t.Fatal("OPA back")
	}
	o.putData(t, "fleet/allowed", `[]`)
	if code, out := login("ops", "192.0.2.10"); code != 1 {
		t.Fatalf("OPA now says CLOSE: %d\n%s", code, out)
	}
	o.stop(t)
	if code, out := login("ops", "192.0.2.10"); code != 1 || strings.Contains(out, "stands") {
		t.Errorf("OPA hanging after its CLOSE: the earlier OPEN came back: %d\n%s", code, out)
	}
	o.cont(t)
	events, _ := os.ReadFile(audit)
	if !strings.Contains(string(events), `"event":"opa_cache","login"`) || !strings.Contains(string(events), `"event":"opa_fallback"`) {
		t.Errorf("audit trail:\n%s", events)
	}
	// a changed config is another config: its logins find no cached OPEN
	o.putData(t, "fleet/allowed", `["ops"]`)
	if code, _ := login("ops", "192.0.2.10"); code != 0 {
		t.Fatal("OPA allows ops again")
	}
	o.stop(t)
	defer o.cont(t)
	must(t, os.WriteFile(s.rules, []byte(opaRules(o.URL, "OPA_AUTHZ:fleet/authz", "OPA_TIMEOUT:1", "OPA_CACHE:4", "# changed")), 0o644))
	if code, out := login("ops", "192.0.2.10"); code != 1 {
		t.Errorf("a changed config took the old config's cached OPEN: %d\n%s", code, out)
	}
}

// TestOPACachePrompt plays a user whose policy asks for a one-time
// password in OPA's display cycle: logged in once with OPA up (OTP
// answered, OPEN, cached), they log in again while OPA hangs. The cached
// OPEN must not stand in for the prompt: OPA_FALLBACK decides (CLOSE),
// and the line says why.
func TestOPACachePrompt(t *testing.T) {
	o := fleetOPA(t)
	etc := newOPAEtc(t, "frontend")
	s := newPAMStack(t, "")
	audit := filepath.Join(s.dir, "audit.jsonl")
	must(t, os.WriteFile(s.rules, []byte(opaRules(o.URL, "OPA_AUTHZ:otp/authz", "OPA_DISPLAY:otp/display",
		"OPA_TIMEOUT:1", "OPA_CACHE:60", "AUDIT_LOG:"+audit)), 0o644))
	login := func(stdin string) (int, string) {
		t.Helper()
		mark := sink.Mark()
		out, code, _ := etc.pamtester(t, s, stdin, []string{"rhost=192.0.2.10"}, "ops", "authenticate")
		return code, out + strings.Join(sink.Since(mark), "\n")
	}
	if code, out := login("999999\n"); code != 1 || !strings.Contains(out, "One-time password:") {
		t.Fatalf("OPA up, a wrong OTP: %d\n%s", code, out)
	}
	if code, out := login("424242\n"); code != 0 || !strings.Contains(out, "One-time password:") {
		t.Fatalf("OPA up, the OTP: %d\n%s", code, out)
	}
	o.stop(t)
	defer o.cont(t)
	code, out := login("")
	if code != 1 || strings.Contains(out, "stands (OPA_CACHE") {
		t.Fatalf("OPA hanging: the cached OPEN stood in for the OTP prompt: %d\n%s", code, out)
	}
	if lines := grep(strings.Split(out, "\n"), "OPA for \"ops\""); len(lines) != 1 ||
		!strings.Contains(lines[0], "does not stand in: it was given after OPA's display cycle asked") ||
		!strings.Contains(lines[0], "OPA_FALLBACK:CLOSE") {
		t.Errorf("want one line saying why the cached OPEN did not stand in:\n%s", out)
	}
	events, _ := os.ReadFile(audit)
	if strings.Contains(string(events), `"event":"opa_cache"`) || !strings.Contains(string(events), `"event":"opa_fallback"`) ||
		strings.Contains(string(events), "424242") {
		t.Errorf("audit trail:\n%s", events)
	}
	runDir := filepath.Join(s.dir, "run")
	if data, err := exec.Command("grep", "-r", "424242", runDir).CombinedOutput(); len(data) > 0 {
		t.Errorf("the OTP is kept in the run directory: %v %s", err, data)
	}
}

// TestOPAPullShadow: a policy server that asks for /etc/shadow gets it
// left out (and logged), even with its own file allowed; the file that
// OPA_PULL_FILES allows is pulled. OPA's own errors show what it got.
func TestOPAPullShadow(t *testing.T) {
	o := fleetOPA(t)
	etc := newOPAEtc(t, "frontend")
	s := newPAMStack(t, "")
	for _, tt := range []struct {
		allow string
		code  int
		got   string
	}{
		{"OPA_PULL_FILES:/etc/host_identity.json", 0, `pulled ["/etc/host_identity.json"]`},
		{"OPA_PULL_FILES:/etc/host_identity.json,/etc/ssh/", 0, `pulled ["/etc/host_identity.json"]`},
		{"", 1, `pulled []`},
	} {
		must(t, os.WriteFile(s.rules, []byte(opaRules(o.URL, "OPA_AUTHZ:shadowauthz", "OPA_PULL:shadowpull", tt.allow)), 0o644))
		mark := sink.Mark()
		out, code, _ := etc.pamtester(t, s, "", nil, "ops", "authenticate")
		log := strings.Join(sink.Since(mark), "\n")
		if code != tt.code || !strings.Contains(log, tt.got) {
			t.Errorf("%q: exit %d (want %d), want OPA to say %s:\n%s\n%s", tt.allow, code, tt.code, tt.got, out, log)
		}
		if len(grep(sink.Since(mark), `OPA asked to pull "/etc/shadow"`, "left out")) != 1 {
			t.Errorf("%q: the refused pull of /etc/shadow is not logged once:\n%s", tt.allow, log)
		}
		if strings.Contains(log, "root:") {
			t.Errorf("shadow's content in the log:\n%s", log)
		}
	}
}

// TestOPAUnixSocket: OPA on a root-owned unix socket (OPA_URL:unix:…).
func TestOPAUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "opa.sock")
	o := &opaServer{URL: "unix:" + sock, out: &lockedBuffer{}}
	o.start(t, "", "--addr", "unix://"+sock, "testdata/opa-fleet")
	o.putData(t, "fleet/allowed", `["ops"]`)
	etc := newOPAEtc(t, "frontend")
	s := newPAMStack(t, opaRules(o.URL, "OPA_AUTHZ:fleet/authz"))
	if out, code, _ := etc.pamtester(t, s, "", nil, "ops", "authenticate"); code != 0 {
		t.Fatalf("ops over the socket: %d\n%s", code, out)
	}
	if _, code, _ := etc.pamtester(t, s, "", nil, "dev", "authenticate"); code != 1 {
		t.Fatalf("dev over the socket: %d", code)
	}
	must(t, os.Chown(sock, 65534, 65534))
	mark := sink.Mark()
	if _, code, _ := etc.pamtester(t, s, "", nil, "ops", "authenticate"); code != 1 ||
		len(grep(sink.Since(mark), "owned by uid 65534, not root")) == 0 {
		t.Fatalf("a socket someone else owns: %d\n%s", code, strings.Join(sink.Since(mark), "\n"))
	}
}

// TestOPADecision: the policy's decision string joins the decision order
// as that option would: the fleet policy answers ASK for an sshd key
// login (SSHD-KEY in our input key), and ASK with nobody at the desktop is
// ASK_FALLBACK's; a password login of the same user is OPEN.
func TestOPADecision(t *testing.T) {
	o := fleetOPA(t)
	etc := newOPAEtc(t, "frontend")
	for _, tt := range []struct {
		fallback string
		ops      []string
		code     int
		log      string
	}{
		{"", []string{"authenticate"}, 0, "OPA answered OPEN: allow true"},
		{"", []string{"acct_mgmt"}, 1, "OPA answered ASK: allow true, decision ASK"},
		{"ASK_FALLBACK:OPEN", []string{"acct_mgmt"}, 0, "ASK_FALLBACK:OPEN"},
	} {
		s := newPAMStack(t, strings.Replace(opaRules(o.URL, "OPA_AUTHZ:fleet/authz", tt.fallback), "SSHD OPA", "SSH OPA", 1))
		mark := sink.Mark()
		out, code, _ := etc.pamtester(t, s, "", []string{"rhost=192.0.2.50"}, "ops", tt.ops...)
		if code != tt.code || len(grep(sink.Since(mark), tt.log)) == 0 {
			t.Errorf("%s %v: exit %d (want %d), want the log to say %q:\n%s\n%s", tt.fallback, tt.ops, code, tt.code, tt.log,
				out, strings.Join(sink.Since(mark), "\n"))
		}
	}
}
