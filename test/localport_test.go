package test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the local attacker of the tests below: an ordinary user who
// binds the port of a service of this host while the service is down.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}

// TestOPALocalPortOwner: while the host's OPA is down, a local user
// (uid 65534) runs an OPA of their own on its port, 127.0.0.1:PORT,
// allowing everyone, with decision logs on to read every input. Their OPA
// is never asked (it logs no decision): OPA_FALLBACK decides, and its one
// line names the uid holding the port; through localhost too. The same
// OPA run as root decides.
func TestOPALocalPortOwner(t *testing.T) {
	etc := newOPAEtc(t, "frontend")
	logs := []string{"--set", "decision_logs.console=true", "--log-level", "info", "testdata/opa-fleet"}
	fake := startOPAAs(t, nobody, "", logs...)
	fake.putData(t, "fleet/allowed", `["ops","dev"]`)
	rootOPA := startOPAAs(t, nil, "", logs...)
	rootOPA.putData(t, "fleet/allowed", `["ops","dev"]`)
	_, port, _ := net.SplitHostPort(fake.addr)
	for _, tt := range []struct {
		name, url, fallback string
		code                int
		log                 []string // in one line
	}{
		{"uid 65534's OPA", fake.URL, "", 1,
			[]string{"OPA for \"dev\"", "tcp " + fake.addr + " on this host is held by uid 65534 (nobody), not root", "OPA_FALLBACK:CLOSE"}},
		{"uid 65534's OPA through localhost", "http://localhost:" + port, "", 1,
			[]string{"OPA for \"dev\"", "held by uid 65534 (nobody), not root", "OPA_FALLBACK:CLOSE"}},
		{"uid 65534's OPA, OPA_FALLBACK:OPEN", fake.URL, "OPA_FALLBACK:OPEN", 0,
			[]string{"OPA for \"dev\"", "held by uid 65534 (nobody), not root", "OPA_FALLBACK:OPEN"}},
		{"root's OPA", rootOPA.URL, "", 0, []string{"OPA answered OPEN: allow true"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newPAMStack(t, "")
			audit := filepath.Join(s.dir, "audit.jsonl")
			must(t, os.WriteFile(s.rules, []byte(opaRules(tt.url, "OPA_AUTHZ:fleet/authz", "OPA_TIMEOUT:2",
				tt.fallback, "AUDIT_LOG:"+audit)), 0o644))
			mark := sink.Mark()
			out, code, _ := etc.pamtester(t, s, "", []string{"rhost=192.0.2.10"}, "dev", "authenticate")
			log := sink.Since(mark)
			if code != tt.code || len(grep(log, tt.log...)) != 1 {
				t.Errorf("exit %d (want %d), want one line saying %q:\n%s\n%s", code, tt.code, tt.log, out, strings.Join(log, "\n"))
			}
			if strings.Contains(tt.name, "65534") {
				events, _ := os.ReadFile(audit)
				if !strings.Contains(string(events), `"event":"opa_fallback"`) {
					t.Errorf("no opa_fallback event:\n%s", events)
				}
			}
		})
	}
	if got := fake.out.String(); strings.Contains(got, "decision_id") || strings.Contains(got, `"dev"`) {
		t.Errorf("uid 65534's OPA was asked:\n%s", got)
	}
	if got := rootOPA.out.String(); !strings.Contains(got, "decision_id") {
		t.Errorf("root's OPA logged no decision (are decision logs on?):\n%s", got)
	}
}

// TestPINLocalRelayOwner: MAILSERVER is a relay on this host, down; a
// local user (uid 65534) runs one of their own on its port, keeping every
// mail. A PIN mailed to it would be theirs to type: it is not sent, the
// login is refused, and the log names the uid holding the port. The same
// relay run as root gets the PIN, and the login succeeds with it.
func TestPINLocalRelayOwner(t *testing.T) {
	s := newPAMStack(t, "")
	must(t, os.WriteFile(filepath.Join(s.dir, "login-mail-mapping.conf"), []byte("alice alice@example.org\n"), 0o644))
	for _, tt := range []struct {
		name string
		cred *syscall.Credential
		code int
		log  []string
	}{
		{"uid 65534's relay", nobody, 1, []string{"auth: CLOSE", "mailing the PIN", "held by uid 65534 (nobody), not root"}},
		{"root's relay", nil, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			relay := startSMTPAs(t, tt.cred)
			for _, host := range []string{relay.addr, "localhost:" + relay.port()} {
				must(t, os.WriteFile(s.rules, []byte("MAILSERVER:"+host+"\nSSHD PIN USER alice\nSSHD OPEN GROUP ALL\n"), 0o644))
				mark := sink.Mark()
				before := len(relay.messages(t))
				var out string
				var code int
				if tt.cred == nil {
					out, code, _ = pinLogin(t, s, relay, "alice", typeMailedPIN)
				} else {
					// no PIN to wait for: the user has nothing to type
					out, code = s.pamtester(t, nil, "sshd", "alice", "authenticate")
				}
				log := sink.Since(mark)
				if code != tt.code || tt.log != nil && len(grep(log, tt.log...)) != 1 {
					t.Errorf("%s: exit %d (want %d), want one line saying %q:\n%s\n%s", host, code, tt.code, tt.log, out, strings.Join(log, "\n"))
				}
				want := 1
				if tt.cred != nil {
					want = 0
				}
				if got := len(relay.messages(t)) - before; got != want {
					t.Errorf("%s: the relay received %d mails, want %d", host, got, want)
				}
			}
		})
	}
}

// startSMTPAs is startSMTP run as cred's user, with a Maildir it may
// write (nil: as root).
func startSMTPAs(t *testing.T, cred *syscall.Credential) *smtpSink {
	t.Helper()
	if cred == nil {
		return startSMTP(t)
	}
	dir, err := os.MkdirTemp("", "pamac-smtp")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	must(t, os.Chown(dir, int(cred.Uid), int(cred.Gid))) // aiosmtpd makes the Maildir
	return startSMTPWith(t, cred, filepath.Join(dir, "Maildir"))
}

func (m *smtpSink) port() string {
	_, port, _ := net.SplitHostPort(m.addr)
	return port
}
