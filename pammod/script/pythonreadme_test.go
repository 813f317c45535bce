package script

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// TestPythonTraceback (README, "Real Python scripts"): an uncaught
// exception is PAM_SERVICE_ERR with one error line naming the script, the
// file and line, the exception and the code returned; the whole traceback
// goes to the debug level only, which the module's debug option turns on.
func TestPythonTraceback(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, as the tests in test/ take it
	if _, err := os.Stat(python); err != nil {
		testenv.Missing(t, python+" (Debian package python3)")
	}
	path := writeScript(t, "boom.py", "def check(user):\n    raise ValueError(\"boom for \" + user)\n\n"+
		"def pam_sm_authenticate(pamh, flags, argv):\n    check(pamh.get_user())\n    return pamh.PAM_SUCCESS\n")
	self := int32(os.Getpid())
	runDir := filepath.Join(t.TempDir(), "run")
	pam := newPAM("alice") // one handle for the login's calls
	run := func(fn protocol.Fn, log *fakeLog) int32 {
		req := call(fn, 0)
		req.PID = self
		return Run(req, Args{Script: path, Argv: []string{path}, Interpreter: python, RunDir: runDir, Timeout: 20 * time.Second},
			self, Deps{PAM: pam, Log: log, Trusted: trustAll})
	}
	log := &fakeLog{}
	code := run(protocol.FnAuthenticate, log)
	t.Cleanup(func() { run(protocol.FnEnd, &fakeLog{}) }) // the login's Python ends
	if code != pamconst.ServiceErr {
		t.Fatalf("code %d, want PAM_SERVICE_ERR\n%v", code, log.lines)
	}
	var errs, debug []string
	for _, l := range log.lines {
		switch {
		case strings.HasPrefix(l, "error: ") && strings.Contains(l, "boom for alice"):
			errs = append(errs, l)
		case strings.HasPrefix(l, "debug: ") && strings.Contains(l, "Traceback (most recent call last)"):
			debug = append(debug, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want one error line, got %q", errs)
	}
	for _, want := range []string{`script "` + path + `"`, "line 2, in check", "ValueError: boom for alice", "returning 3"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("the error line lacks %q: %q", want, errs[0])
		}
	}
	if strings.Contains(errs[0], "\n") || strings.Contains(errs[0], "most recent call last") {
		t.Errorf("the error line is more than one line: %q", errs[0])
	}
	if len(debug) != 1 || !strings.Contains(debug[0], "line 5, in pam_sm_authenticate") || !strings.Contains(debug[0], "line 2, in check") {
		t.Errorf("want the whole traceback at debug level: %q", debug)
	}
}

// TestPythonOneInterpreter (README, "Real Python scripts"): the stack
// lines of one login share its interpreter, so they must name the same
// interpreter=: a later line naming another is denied with a line that
// says so, and the login's interpreter goes on serving it.
func TestPythonOneInterpreter(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, not a pyenv shim that a link to it would confuse
	if _, err := os.Stat(python); err != nil {
		testenv.Missing(t, python+" (Debian package python3)")
	}
	other := filepath.Join(t.TempDir(), "python3-other") // another path to the same Python
	if err := os.Symlink(python, other); err != nil {
		t.Fatal(err)
	}
	path := writeScript(t, "ok.py", "def pam_sm_authenticate(pamh, flags, argv):\n    return pamh.PAM_SUCCESS\n"+
		"def pam_sm_acct_mgmt(pamh, flags, argv):\n    return pamh.PAM_SUCCESS\n")
	self := int32(os.Getpid())
	runDir := filepath.Join(t.TempDir(), "run")
	pam := newPAM("alice") // one handle for the login's calls
	run := func(fn protocol.Fn, interpreter string, log *fakeLog) int32 {
		req := call(fn, 0)
		req.PID = self
		return Run(req, Args{Script: path, Argv: []string{path}, Interpreter: interpreter, RunDir: runDir, Timeout: 20 * time.Second},
			self, Deps{PAM: pam, Log: log, Trusted: trustAll})
	}
	log := &fakeLog{}
	if code := run(protocol.FnAuthenticate, python, log); code != pamconst.Success {
		t.Fatalf("auth under %s: %d\n%v", python, code, log.lines)
	}
	t.Cleanup(func() { run(protocol.FnEnd, python, &fakeLog{}) })
	if code := run(protocol.FnAcctMgmt, other, log); code != pamconst.ServiceErr || !log.has("one login, one interpreter; denying") {
		t.Errorf("account under %s: %d, want PAM_SERVICE_ERR and a line saying why\n%s", other, code, strings.Join(log.lines, "\n"))
	}
	if code := run(protocol.FnAcctMgmt, python, log); code != pamconst.Success {
		t.Errorf("account under %s again: %d\n%v", python, code, log.lines)
	}
}

// TestPythonArgvPerCall (README, "Real Python scripts"): argv is a new
// list at every call, the script as written on the line and then its
// arguments: what one call does to it, the next does not see.
func TestPythonArgvPerCall(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		testenv.Missing(t, python+" (Debian package python3)")
	}
	path := writeScript(t, "argv.py", `
def check(argv):
    ok = argv == ["argv.py", "a", "b"]
    argv.append("left by this call")
    return 0 if ok else 7
def pam_sm_authenticate(pamh, flags, argv):
    return check(argv)
def pam_sm_acct_mgmt(pamh, flags, argv):
    return check(argv)
`)
	self := int32(os.Getpid())
	runDir := filepath.Join(t.TempDir(), "run")
	pam := newPAM("alice")
	run := func(fn protocol.Fn, log *fakeLog) int32 {
		req := call(fn, 0)
		req.PID = self
		return Run(req, Args{Script: path, Argv: []string{"argv.py", "a", "b"}, Interpreter: python, RunDir: runDir, Timeout: 20 * time.Second},
			self, Deps{PAM: pam, Log: log, Trusted: trustAll})
	}
	t.Cleanup(func() { run(protocol.FnEnd, &fakeLog{}) })
	for _, fn := range []protocol.Fn{protocol.FnAuthenticate, protocol.FnAcctMgmt, protocol.FnAuthenticate} {
		log := &fakeLog{}
		if code := run(fn, log); code != pamconst.Success {
			t.Errorf("%v: %d, want 0: argv is not the line's as written\n%s", fn, code, strings.Join(log.lines, "\n"))
		}
	}
}
