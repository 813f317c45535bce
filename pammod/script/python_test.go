package script

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/pyengine"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pamscript"
)

// TestPython: interpreter= mode with a fake engine. The interpreter must
// be root's alone (except to end one at pam_end), and the call must come
// from the process the kernel names, like a rule-mode call; then the
// engine gets the call, the login and the deadline, and its code is the
// answer.
func TestPython(t *testing.T) {
	const interp = "/usr/bin/python3"
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	caller := loginstate.Login{Boot: "b", Self: loginstate.Process{PID: 4242, Start: 99}, Handle: "0x5555"}
	identify := func(pid int32, handle string) (loginstate.Login, error) {
		if pid != 4242 || handle != "0x5555" {
			return loginstate.Login{}, errors.New("a stranger")
		}
		return caller, nil
	}
	untrusted := func(path string) error {
		if path == interp {
			return errors.New("writable by group")
		}
		return nil
	}
	tests := []struct {
		name     string
		fn       protocol.Fn
		peer     int32 // the kernel's pid
		trusted  func(string) error
		identify func(int32, string) (loginstate.Login, error)
		runDir   string // "" for a fresh one
		want     int32
		ran      bool // the engine ran
		wantLog  string
	}{
		{name: "the engine's code is the answer", fn: protocol.FnAuthenticate, peer: 4242, want: pamconst.NewAuthtokReqd, ran: true},
		{name: "pam_end", fn: protocol.FnEnd, peer: 4242, want: pamconst.NewAuthtokReqd, ran: true},
		{name: "an interpreter anyone may change", fn: protocol.FnAuthenticate, peer: 4242, trusted: untrusted,
			want: pamconst.ServiceErr, wantLog: `error: auth: interpreter "/usr/bin/python3" refused: writable by group`},
		{name: "pam_end still ends the login's interpreter", fn: protocol.FnEnd, peer: 4242, trusted: untrusted,
			want: pamconst.NewAuthtokReqd, ran: true},
		{name: "the call speaks for another process", fn: protocol.FnAcctMgmt, peer: 4343, want: pamconst.ServiceErr,
			wantLog: "error: account: the module says it runs in process 4242, the kernel says 4343; denying"},
		{name: "who is logging in is unknown", fn: protocol.FnOpenSession, peer: 4242,
			identify: func(int32, string) (loginstate.Login, error) { return loginstate.Login{}, errors.New("no procfs") },
			want:     pamconst.ServiceErr, wantLog: "error: open_session: who is logging in: no procfs; denying"},
		{name: "a relative run directory", fn: protocol.FnAuthenticate, peer: 4242, runDir: "run",
			want: pamconst.ServiceErr, wantLog: `error: auth: run directory "run" is not an absolute path; denying`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runDir := tt.runDir
			if runDir == "" {
				runDir = filepath.Join(t.TempDir(), "run")
			}
			trusted, id := tt.trusted, tt.identify
			if trusted == nil {
				trusted = trustAll
			}
			if id == nil {
				id = identify
			}
			p, log := newPAM("alice"), &fakeLog{}
			var got pyengine.Call
			ran := false
			code := Run(call(tt.fn, protocol.FlagSilent),
				Args{Script: "check.py", Argv: []string{"check.py", "x"}, Interpreter: interp, RunDir: runDir, Timeout: 30 * time.Second},
				tt.peer, Deps{PAM: p, Log: log, Trusted: trusted, Identify: id, Now: func() time.Time { return clock },
					Starlark: func(pamscript.Call) (int, error) {
						t.Error("an interpreter= script ran in Starlark")
						return 0, nil
					},
					Python: func(c pyengine.Call) int32 { ran, got = true, c; return pamconst.NewAuthtokReqd }})
			if code != tt.want || ran != tt.ran {
				t.Fatalf("Run = %d, engine ran %v; want %d, %v\n%s", code, ran, tt.want, tt.ran, log)
			}
			if tt.wantLog != "" && !log.has(tt.wantLog) {
				t.Errorf("no log line %q:\n%s", tt.wantLog, log)
			}
			if !ran {
				return
			}
			if got.Req.Fn != tt.fn || got.PAM != PAM(p) || got.Interpreter != interp || got.Script != "/lib/security/check.py" ||
				strings.Join(got.Argv, " ") != "check.py x" || got.Entry != Entry(tt.fn) || got.Caller != caller ||
				got.Store == nil || got.Store.Dir() != runDir || !got.Deadline.Equal(clock.Add(29500*time.Millisecond)) || got.Log == nil {
				t.Errorf("the engine got %+v", got)
			}
		})
	}
}

// TestScriptRefused: a script anyone but root may change runs in no
// engine; the name without a path is pam_python's /lib/security one.
func TestScriptRefused(t *testing.T) {
	for _, interp := range []string{"", "/usr/bin/python3"} {
		var asked []string
		log := &fakeLog{}
		code := Run(call(protocol.FnAuthenticate, 0), Args{Script: "mine.py", Argv: []string{"mine.py"}, Interpreter: interp,
			RunDir: filepath.Join(t.TempDir(), "run")}, 4242,
			Deps{PAM: newPAM("alice"), Log: log,
				Trusted:  func(path string) error { asked = append(asked, path); return errors.New("owned by uid 1000") },
				Identify: noIdentify(t), Python: noPython(t),
				Starlark: func(pamscript.Call) (int, error) {
					t.Error("a refused script ran")
					return 0, nil
				}})
		if code != pamconst.ServiceErr || !log.has(`error: auth: script "/lib/security/mine.py" refused: owned by uid 1000`) {
			t.Errorf("interpreter %q: Run = %d\n%s", interp, code, log)
		}
		if strings.Join(asked, " ") != "/lib/security/mine.py" {
			t.Errorf("interpreter %q: checked %q", interp, asked)
		}
	}
}

func TestEntry(t *testing.T) {
	for fn, want := range map[protocol.Fn]string{
		protocol.FnAuthenticate: "pam_sm_authenticate", protocol.FnSetcred: "pam_sm_setcred",
		protocol.FnAcctMgmt: "pam_sm_acct_mgmt", protocol.FnOpenSession: "pam_sm_open_session",
		protocol.FnCloseSession: "pam_sm_close_session", protocol.FnChauthtok: "pam_sm_chauthtok",
		protocol.FnEnd: "pam_sm_end", protocol.Fn(99): "",
	} {
		if got := Entry(fn); got != want {
			t.Errorf("Entry(%s) = %q, want %q", fn, got, want)
		}
	}
	if Path("/etc/security/a.py") != "/etc/security/a.py" || Path("a.py") != "/lib/security/a.py" {
		t.Errorf("Path: %q, %q", Path("/etc/security/a.py"), Path("a.py"))
	}
}

// TestPythonForReal: one login's calls through the real pyengine and
// python3 with a fake handle: the interpreter started for auth keeps the
// script's state for account, and pam_end ends it.
func TestPythonForReal(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3")
	}
	path := writeScript(t, "real.py", `
calls = []
def pam_sm_authenticate(pamh, flags, argv):
    calls.append("auth")
    r = pamh.conversation(pamh.Message(pamh.PAM_PROMPT_ECHO_ON, "token: "))
    if pamh.get_user() == "alice" and r.resp == "42" and argv[1:] == ["x"]:
        return pamh.PAM_SUCCESS
    return pamh.PAM_AUTH_ERR
def pam_sm_acct_mgmt(pamh, flags, argv):
    if calls == ["auth"]:
        return pamh.PAM_SUCCESS
    return pamh.PAM_ACCT_EXPIRED
`)
	self := int32(os.Getpid())
	runDir := filepath.Join(t.TempDir(), "run")
	p, log := newPAM("alice"), &fakeLog{}
	p.answers = []string{"42"}
	do := func(fn protocol.Fn) int32 {
		req := call(fn, 0)
		req.PID = self
		return Run(req, Args{Script: path, Argv: []string{path, "x"}, Interpreter: python, RunDir: runDir, Timeout: 20 * time.Second},
			self, Deps{PAM: p, Log: log, Trusted: trustAll})
	}
	if code := do(protocol.FnAuthenticate); code != pamconst.Success {
		t.Fatalf("auth = %d\n%s", code, log)
	}
	store, err := loginstate.Open(runDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	caller, err := loginstate.Identifier{}.Identify(self, "0x5555")
	if err != nil {
		t.Fatal(err)
	}
	e, found := store.FindEngine(caller, loginstate.AnyHandle)
	if !found {
		t.Fatalf("no interpreter kept for the login\n%s", log)
	}
	t.Cleanup(func() {
		if (loginstate.Identifier{}).Alive(e.Process) {
			p, _ := os.FindProcess(int(e.Process.PID))
			p.Kill()
		}
	})
	if code := do(protocol.FnAcctMgmt); code != pamconst.Success {
		t.Errorf("account = %d: the script's state did not come along\n%s", code, log)
	}
	if code := do(protocol.FnEnd); code != pamconst.Success {
		t.Errorf("end = %d\n%s", code, log)
	}
	if _, found := store.FindEngine(caller, loginstate.AnyHandle); found {
		t.Error("pam_end left the interpreter's record")
	}
}

// TestPythonEndOfADyingPython: the login's Python crashed in auth (said
// once, denied) and is not yet gone when pam_end comes: pam_end ends it
// without a second error line (TestPythonCrashes counted two on a busy
// machine), kills what is left and forgets the record.
func TestPythonEndOfADyingPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3")
	}
	path := writeScript(t, "dying.py", "def pam_sm_end(pamh, flags, argv):\n    return pamh.PAM_SUCCESS\n")
	self := int32(os.Getpid())
	runDir := filepath.Join(t.TempDir(), "run")
	store, err := loginstate.Open(runDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	caller, err := loginstate.Identifier{}.Identify(self, "0x5555")
	if err != nil {
		t.Fatal(err)
	}
	// the dying Python: alive, in its own process group, answering nobody
	dying := exec.Command("sleep", "60")
	dying.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := dying.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dying.Process.Kill(); dying.Wait() })
	proc, err := loginstate.Identifier{}.Identify(int32(dying.Process.Pid), "0x1")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveEngine(loginstate.Engine{Owner: caller, LoginID: "l1", Socket: filepath.Join(t.TempDir(), "gone.sock"),
		Process: proc.Self, Path: python}); err != nil {
		t.Fatal(err)
	}
	log := &fakeLog{}
	req := call(protocol.FnEnd, 0)
	req.PID = self
	code := Run(req, Args{Script: path, Argv: []string{path}, Interpreter: python, RunDir: runDir, Timeout: 20 * time.Second},
		self, Deps{PAM: newPAM("alice"), Log: log, Trusted: trustAll})
	if code != pamconst.Success {
		t.Errorf("end = %d\n%s", code, log)
	}
	if log.has("error: ") {
		t.Errorf("pam_end of a dying Python logged an error:\n%s", log)
	}
	if _, found := store.FindEngine(caller, loginstate.AnyHandle); found {
		t.Error("the record stayed")
	}
	done := make(chan error, 1)
	go func() { done <- dying.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("what was left of the Python was not killed")
	}
}
