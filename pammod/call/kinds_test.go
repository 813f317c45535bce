package call

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestLoginKindFromTheHost plays the client that tries a wrong password
// and then its key on one sshd connection. Our auth line runs after the
// password check that failed (auth required pam_unix, then ours) and
// decides for a password login; the account phase that sshd then runs for
// the key login must decide for a key login, in whichever process it runs
// (the monitor, which checked the password itself, or the monitor after a
// keyboard-interactive child that failed).
func TestLoginKindFromTheHost(t *testing.T) {
	const (
		passwordOnly = "DEFAULT:CLOSE\nSSHD OPEN USER alice\nSSHD-KEY CLOSE USER alice\n"
		keyOnly      = "DEFAULT:CLOSE\nSSHD CLOSE USER alice\nSSHD-KEY OPEN USER alice\n"
	)
	type step struct {
		fn            protocol.Fn
		child         bool // in the keyboard-interactive child (pid 11), not the monitor (10)
		wrongPassword bool
		want          int32
	}
	tests := []struct {
		name  string
		rules string
		steps []step
		kinds string // the kinds of login its decision lines are for, in order
	}{
		{"wrong password then key, password rules open", passwordOnly, []step{
			{auth, false, true, protocol.PAMSuccess}, // ours said yes; pam_unix no
			{account, false, false, protocol.PAMPermDenied},
		}, "password key"},
		{"wrong password then key, key rules open", keyOnly, []step{
			{auth, false, true, protocol.PAMAuthErr},
			{account, false, false, protocol.PAMSuccess},
			{open, false, false, protocol.PAMSuccess},
		}, "password key"},
		{"wrong keyboard-interactive then key, password rules open", passwordOnly, []step{
			{auth, true, true, protocol.PAMSuccess},
			{account, false, false, protocol.PAMPermDenied},
		}, "password key"},
		{"wrong keyboard-interactive then key, key rules open", keyOnly, []step{
			{auth, true, true, protocol.PAMAuthErr},
			{account, false, false, protocol.PAMSuccess},
		}, "password key"},
		{"wrong password, then the right one", passwordOnly, []step{
			{auth, false, true, protocol.PAMSuccess},
			{auth, false, false, protocol.PAMSuccess},
			{account, false, false, protocol.PAMSuccess},
			{open, false, false, protocol.PAMSuccess},
		}, "password"},
		{"right password", passwordOnly, []step{
			{auth, false, false, protocol.PAMSuccess},
			{account, false, false, protocol.PAMSuccess},
		}, "password"},
		{"right keyboard-interactive", passwordOnly, []step{
			{auth, true, false, protocol.PAMSuccess},
			{account, true, false, protocol.PAMSuccess},
			{open, false, false, protocol.PAMSuccess},
		}, "password"},
		{"key alone", keyOnly, []step{
			{account, false, false, protocol.PAMSuccess},
			{open, false, false, protocol.PAMSuccess},
		}, "key"},
		{"password refused by the rules, then key", keyOnly, []step{
			{auth, false, false, protocol.PAMAuthErr},
			{account, false, false, protocol.PAMSuccess},
		}, "password key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, tt.rules)
			h.proc(10, 1, 0)
			h.proc(11, 2, 10)
			monitor := &fakePAM{user: "alice"}
			var child *fakePAM
			for i, s := range tt.steps {
				pid, pam := int32(10), monitor
				if s.child {
					if child == nil {
						child = monitor.fork()
					}
					pid, pam = 11, child
				}
				pam.wrongPassword = s.wrongPassword
				if got := h.call(s.fn, pid, pam, "192.0.2.1", 0); got != s.want {
					t.Fatalf("step %d (%s in %d): %d, want %d\n%s", i+1, s.fn, pid, got, s.want, strings.Join(h.log.lines, "\n"))
				}
			}
			var kinds []string
			for _, l := range h.log.grep(`for "alice" from`) {
				if m := decisionKind.FindStringSubmatch(l); m != nil {
					kinds = append(kinds, m[1])
				}
			}
			if got := strings.Join(kinds, " "); got != tt.kinds {
				t.Errorf("decisions for %q logins, want %q:\n%s", got, tt.kinds, strings.Join(h.log.lines, "\n"))
			}
		})
	}
}

// decisionKind is the kind of login a decision line is for.
var decisionKind = regexp.MustCompile(`\(service "sshd", auth (\w+),`)

// TestLoginKindUnknown: a module that cannot tell how the last
// authentication ended (an older module, another handle holding the
// watch) makes the login pass as a password and as a key login.
func TestLoginKindUnknown(t *testing.T) {
	for _, tt := range []struct {
		rules string
		want  int32
	}{
		{"DEFAULT:CLOSE\nSSHD OPEN USER alice\nSSHD-KEY CLOSE USER alice\n", protocol.PAMPermDenied},
		{"DEFAULT:CLOSE\nSSHD CLOSE USER alice\nSSHD-KEY OPEN USER alice\n", protocol.PAMPermDenied},
		{"DEFAULT:CLOSE\nSSH OPEN USER alice\n", protocol.PAMSuccess},
	} {
		h := newHost(t, tt.rules)
		h.proc(10, 1, 0)
		pam := &fakePAM{user: "alice"}
		h.call(auth, 10, pam, "192.0.2.1", 0)
		pam.auth = protocol.AuthUnknown
		if got := h.call(account, 10, pam, "192.0.2.1", 0); got != tt.want {
			t.Errorf("%q: account %d, want %d\n%s", tt.rules, got, tt.want, strings.Join(h.log.lines, "\n"))
		}
	}
}

// TestSessionAsSSHDSays: in the session phase sshd's SSH_AUTH_INFO_0 lists
// the methods that succeeded. A login it names otherwise than the earlier
// phases took it must pass as that kind too: planted in the PAM
// environment, it can only refuse.
func TestSessionAsSSHDSays(t *testing.T) {
	for _, tt := range []struct {
		info string
		want int32
	}{
		{"password\n", protocol.PAMSuccess},
		{"keyboard-interactive/pam\n", protocol.PAMSuccess},
		{"publickey ssh-ed25519 AAAAC3Nza\n", protocol.PAMPermDenied},
		{"publickey ssh-ed25519 AAAAC3Nza\npassword\n", protocol.PAMSuccess}, // both factors: a PAM one ran
		{"", protocol.PAMSuccess},
	} {
		h := newHost(t, "DEFAULT:CLOSE\nSSHD OPEN USER alice\nSSHD-KEY CLOSE USER alice\n")
		h.proc(10, 1, 0)
		pam := &fakePAM{user: "alice", env: map[string]string{}}
		h.call(auth, 10, pam, "192.0.2.1", 0)
		h.call(account, 10, pam, "192.0.2.1", 0)
		pam.env["SSH_AUTH_INFO_0"] = tt.info
		if got := h.call(open, 10, pam, "192.0.2.1", 0); got != tt.want {
			t.Errorf("SSH_AUTH_INFO_0 %q: session %d, want %d\n%s", tt.info, got, tt.want, strings.Join(h.log.lines, "\n"))
		}
		// the password decision stands for its kind: only the kind sshd
		// added is decided, no earlier decision is taken for a failed one
		if len(h.log.grep("deciding again")) != 0 || len(h.log.grep(`auth password,`)) != 1 {
			t.Errorf("SSH_AUTH_INFO_0 %q: the confirmed password decision was not kept for its kind:\n%s", tt.info, strings.Join(h.log.lines, "\n"))
		}
	}
}

// TestAllowOfAFailedPasswordIsNotKept: the desktop owner allows an ASK
// login whose password then proves wrong, and the client logs in by key:
// neither the approval nor the owner's "allow this host for 8 h" is kept,
// so the next login from that host is asked again.
func TestAllowOfAFailedPasswordIsNotKept(t *testing.T) {
	for _, answer := range []dbusapi.Decision{dbusapi.Allow, dbusapi.AllowRemember} {
		t.Run(string(answer), func(t *testing.T) {
			h := newHost(t, "DEFAULT:CLOSE\nASK_REMEMBER:8\nSSHD ASK GROUP lp\nSSHD-KEY OPEN USER carol\n")
			h.proc(10, 1, 0)
			h.proc(20, 2, 0)
			h.asker = &fakeAsker{owner: &logind.Desktop{User: "dora", UID: 1000, Type: "x11"}, answer: answer}
			first := &fakePAM{user: "carol", wrongPassword: true}
			if got := h.call(auth, 10, first, "192.0.2.7", 0); got != protocol.PAMSuccess || h.asker.asked != 1 {
				t.Fatalf("first login's auth: %d, asked %d", got, h.asker.asked)
			}
			if got := h.call(account, 10, first, "192.0.2.7", 0); got != protocol.PAMSuccess {
				t.Fatalf("first login's key: %d", got)
			}
			h.call(open, 10, first, "192.0.2.7", 0)
			h.sessions.list = []rules.Session{{User: "carol", Service: "sshd", RHost: "192.0.2.7", Class: "user", State: "active"}}
			if g, _ := h.store().Grants(); len(g) != 0 {
				t.Errorf("a grant made with a wrong password was kept: %+v", g)
			}
			h.asker.answer = dbusapi.Deny
			if got := h.call(auth, 20, &fakePAM{user: "carol"}, "192.0.2.7", 0); got != protocol.PAMAuthErr || h.asker.asked != 2 {
				t.Fatalf("second login: %d, asked %d; want asked again and denied\n%s", got, h.asker.asked, strings.Join(h.log.lines, "\n"))
			}
			if len(h.log.grep("Allow for \"carol\" from \"192.0.2.7\" is not kept")) != 1 {
				t.Errorf("no line says the Allow was dropped:\n%s", strings.Join(h.log.lines, "\n"))
			}
		})
	}
}

// TestApprovalTiedToItsLogin: an approval lets the same user from the same
// host in without a question only while the approved login itself lives.
func TestApprovalTiedToItsLogin(t *testing.T) {
	h := newHost(t, "DEFAULT:CLOSE\nSSHD ASK GROUP lp\n")
	h.proc(10, 1, 0)
	h.asker = &fakeAsker{owner: &logind.Desktop{User: "dora", UID: 1000}, answer: dbusapi.Allow}
	first := &fakePAM{user: "carol"}
	for _, fn := range []protocol.Fn{auth, account, open} {
		if got := h.call(fn, 10, first, "192.0.2.7", 0); got != protocol.PAMSuccess {
			t.Fatalf("%s: %d", fn, got)
		}
	}
	// another session of carol's from that host lives on (a key login,
	// say), and the approved one ends without a close_session
	h.sessions.list = []rules.Session{{User: "carol", Service: "sshd", RHost: "192.0.2.7", Class: "user", State: "active"}}
	delete(h.procs, 10)
	h.asker.answer = dbusapi.Deny
	h.proc(20, 2, 0)
	if got := h.call(auth, 20, &fakePAM{user: "carol"}, "192.0.2.7", 0); got != protocol.PAMAuthErr || h.asker.asked != 2 {
		t.Fatalf("after the approved login ended: %d, asked %d; want asked again", got, h.asker.asked)
	}
}
