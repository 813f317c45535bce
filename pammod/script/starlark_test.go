package script

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/pyengine"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pamscript"
)

// scriptSrc answers each entry point differently, so that a call reaching
// the wrong function shows; it reads the handle through pamh and keeps
// module state across the calls of one handle, as pam_python does.
const scriptSrc = `
import syslog

state = {"calls": []}

def pam_sm_authenticate(pamh, flags, argv):
    state["calls"].append("auth")
    user = pamh.get_user()
    syslog.syslog(syslog.LOG_INFO, "auth of " + user)
    if user != "alice":
        syslog.syslog(syslog.LOG_ERR, "not alice")
        return pamh.PAM_AUTH_ERR
    if len(argv) > 1 and argv[1] == "pin":
        r = pamh.conversation(pamh.Message(pamh.PAM_PROMPT_ECHO_OFF, "PIN: "))
        if r.resp != "1234":
            return pamh.PAM_AUTH_ERR
    return pamh.PAM_SUCCESS

def pam_sm_setcred(pamh, flags, argv):
    if flags & pamh.PAM_SILENT:
        return pamh.PAM_CRED_ERR
    return pamh.PAM_SUCCESS

def pam_sm_acct_mgmt(pamh, flags, argv):
    if state["calls"] != ["auth"]:
        return pamh.PAM_ACCT_EXPIRED
    return pamh.PAM_SUCCESS

def pam_sm_open_session(pamh, flags, argv):
    pamh.env["SEEN"] = pamh.rhost
    return pamh.PAM_SESSION_ERR

def pam_sm_close_session(pamh, flags, argv):
    r = catch(pamh.conversation, pamh.Message(pamh.PAM_TEXT_INFO, "bye"))
    if r.error != None:
        return r.error.pam_result
    return pamh.PAM_IGNORE

def pam_sm_chauthtok(pamh, flags, argv):
    fail("no password changes here")
`

func writeScript(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// trustAll stands for trust.File with a test's own files.
func trustAll(string) error { return nil }

// noPython fails a test whose Starlark script reached the interpreter.
func noPython(t *testing.T) func(pyengine.Call) int32 {
	return func(pyengine.Call) int32 {
		t.Error("a script without interpreter= ran in Python")
		return protocol.PAMSuccess
	}
}

func TestStarlark(t *testing.T) {
	path := writeScript(t, "policy.py", scriptSrc)
	tests := []struct {
		name    string
		fn      protocol.Fn
		flags   int32
		user    string
		argv    []string
		answers []string
		prepare func(p *fakePAM)
		want    int32
		wantLog []string // lines the log must hold
		check   func(t *testing.T, p *fakePAM)
	}{
		{name: "auth opens for alice", fn: protocol.FnAuthenticate, user: "alice", want: pamconst.Success,
			wantLog: []string{`info: policy.py: auth of alice`}},
		{name: "auth refuses bob", fn: protocol.FnAuthenticate, user: "bob", want: pamconst.AuthErr,
			wantLog: []string{`info: policy.py: auth of bob`, `error: policy.py: not alice`}},
		{name: "argv reaches the script, the conversation answers", fn: protocol.FnAuthenticate, user: "alice",
			argv: []string{"pin"}, answers: []string{"1234"}, want: pamconst.Success,
			check: func(t *testing.T, p *fakePAM) {
				if len(p.said) != 1 || p.said[0] != "PIN: " {
					t.Errorf("the conversation said %q", p.said)
				}
			}},
		{name: "a wrong answer", fn: protocol.FnAuthenticate, user: "alice",
			argv: []string{"pin"}, answers: []string{"0000"}, want: pamconst.AuthErr},
		{name: "setcred gets the flags", fn: protocol.FnSetcred, flags: protocol.FlagSilent, user: "alice", want: pamconst.CredErr},
		{name: "setcred without PAM_SILENT", fn: protocol.FnSetcred, user: "alice", want: pamconst.Success},
		{name: "account without auth on this handle", fn: protocol.FnAcctMgmt, user: "alice", want: pamconst.AcctExpired},
		{name: "account after auth on this handle: the module state came along", fn: protocol.FnAcctMgmt, user: "alice",
			prepare: func(p *fakePAM) {
				if code := run(t, p, path, protocol.FnAuthenticate, 0, nil); code != pamconst.Success {
					t.Fatalf("auth = %d", code)
				}
			},
			want: pamconst.Success},
		{name: "open_session sets the PAM environment", fn: protocol.FnOpenSession, user: "alice", want: pamconst.SessionErr,
			prepare: func(p *fakePAM) { p.items[protocol.ItemRHost] = "10.0.0.9" },
			check: func(t *testing.T, p *fakePAM) {
				if p.env["SEEN"] != "10.0.0.9" {
					t.Errorf("PAM environment %v", p.env)
				}
			}},
		{name: "close_session", fn: protocol.FnCloseSession, user: "alice", want: pamconst.Ignore},
		{name: "a request libpam refuses is the script's pam_result", fn: protocol.FnCloseSession, user: "alice",
			prepare: func(p *fakePAM) { p.refuse = map[string]int32{"conversation": pamconst.ConvErr} },
			want:    pamconst.ConvErr},
		{name: "a failing script is PAM_SERVICE_ERR, logged", fn: protocol.FnChauthtok, user: "alice", want: pamconst.ServiceErr,
			wantLog: []string{`error: chauthtok: script "` + path + `": `, `no password changes here`, `; returning 3 (`}},
		{name: "pam_end without pam_sm_end", fn: protocol.FnEnd, user: "alice", want: pamconst.Success},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPAM(tt.user)
			if tt.prepare != nil {
				tt.prepare(p)
			}
			p.answers = tt.answers
			log := &fakeLog{}
			argv := append([]string{path}, tt.argv...)
			got := Run(call(tt.fn, tt.flags), Args{Script: path, Argv: argv, Timeout: 10 * time.Second}, 4242,
				Deps{PAM: p, Log: log, Trusted: trustAll, Python: noPython(t)})
			if got != tt.want {
				t.Errorf("Run = %d (%s), want %d (%s)\n%s", got, pamconst.Strerror(int(got)), tt.want, pamconst.Strerror(int(tt.want)), log)
			}
			for _, want := range tt.wantLog {
				if !log.has(want) {
					t.Errorf("no log line with %q:\n%s", want, log)
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// TestStarlarkMissingEntry: a script without the call's function is
// PAM_SYMBOL_ERR with a line saying which, never PAM_SUCCESS.
func TestStarlarkMissingEntry(t *testing.T) {
	path := writeScript(t, "partial.py", "def pam_sm_authenticate(pamh, flags, argv):\n    return pamh.PAM_SUCCESS\n")
	log := &fakeLog{}
	got := Run(call(protocol.FnAcctMgmt, 0), Args{Script: path, Argv: []string{path}}, 4242,
		Deps{PAM: newPAM("alice"), Log: log, Trusted: trustAll, Python: noPython(t)})
	if got != pamconst.SymbolErr || !log.has("pam_sm_acct_mgmt() isn't defined; returning 2") {
		t.Errorf("Run = %d\n%s", got, log)
	}
}

// TestStarlarkCall: what the engine is given, with a fake engine.
func TestStarlarkCall(t *testing.T) {
	p := newPAM("alice")
	calls := 0
	got := Run(call(protocol.FnOpenSession, protocol.FlagSilent),
		Args{Script: "x.py", Argv: []string{"x.py", "a"}, Recursion: true}, 4242,
		Deps{PAM: p, Log: &fakeLog{}, Trusted: trustAll, Python: noPython(t),
			Starlark: func(c pamscript.Call) (int, error) {
				calls++
				if c.Path != "/lib/security/x.py" || c.Entry != "pam_sm_open_session" || c.Flags != protocol.FlagSilent ||
					!c.Recursion || strings.Join(c.Argv, " ") != "x.py a" || c.PAM == nil || c.Host == nil {
					t.Errorf("the engine got %+v", c)
				}
				return pamconst.NewAuthtokReqd, nil
			}})
	if calls != 1 || got != pamconst.NewAuthtokReqd {
		t.Errorf("Run = %d after %d engine calls; want the engine's code", got, calls)
	}
}

// call is a module's call from process 4242 (the kernel's pid in these
// tests) for sshd.
func call(fn protocol.Fn, flags int32) protocol.Call {
	return protocol.Call{Version: protocol.Version, Fn: fn, Flags: flags, PID: 4242, PPID: 1, Handle: "0x5555",
		Service: protocol.Some("sshd")}
}

// run runs one Starlark call on handle p.
func run(t *testing.T, p *fakePAM, path string, fn protocol.Fn, flags int32, argv []string) int32 {
	t.Helper()
	return Run(call(fn, flags), Args{Script: path, Argv: append([]string{path}, argv...)}, 4242,
		Deps{PAM: p, Log: &fakeLog{}, Trusted: trustAll, Identify: noIdentify(t), Python: noPython(t)})
}

func noIdentify(t *testing.T) func(int32, string) (loginstate.Login, error) {
	return func(int32, string) (loginstate.Login, error) {
		t.Error("a Starlark script's call named its login")
		return loginstate.Login{}, nil
	}
}
