package script

import (
	"os"
	"os/exec"
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
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3")
	}
	path := writeScript(t, "boom.py", "def check(user):\n    raise ValueError(\"boom for \" + user)\n\n"+
		"def pam_sm_authenticate(pamh, flags, argv):\n    check(pamh.get_user())\n    return pamh.PAM_SUCCESS\n")
	self := int32(os.Getpid())
	runDir := filepath.Join(t.TempDir(), "run")
	run := func(fn protocol.Fn, log *fakeLog) int32 {
		req := call(fn, 0)
		req.PID = self
		return Run(req, Args{Script: path, Argv: []string{path}, Interpreter: python, RunDir: runDir, Timeout: 20 * time.Second},
			self, Deps{PAM: newPAM("alice"), Log: log, Trusted: trustAll})
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
