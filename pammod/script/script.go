// Package script runs one PAM call in script mode: `pam_accesscontrol.so
// [options] SCRIPT [args…]` runs a pam_python script instead of the rules
// (docs/pam_python.md), in Starlark inside the helper
// (rules/starhost/pamscript), or with interpreter= in that real Python,
// one process per login (pammod/pyengine).
//
// It is script mode's counterpart of pammod/call: the PAM handle, the
// trust check, the login's identity and both engines come through Deps, so
// each branch is tested without root, libpam or a Python.
package script

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/pyengine"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pamscript"
)

// Dir is where pam_python looks for a script named without a path.
const Dir = "/lib/security/"

// PAM is the application's PAM handle, reached through the module: what
// pam_python's pamh may do with it (protocol.Conn is one).
type PAM = pyengine.PAM

// Logger is where the call's lines go (syslog, AUTHPRIV).
type Logger interface {
	Info(format string, args ...any)
	Error(format string, args ...any)
	Debug(format string, args ...any)
}

// Args are the module line's options that script mode uses.
type Args struct {
	// Script is the script as the module line names it: a path, or a
	// name under Dir.
	Script string
	// Argv is pam_python's argv: the script as written, then its
	// arguments.
	Argv []string
	// Interpreter (interpreter=, an absolute path) runs the script in
	// that Python; "" runs it in Starlark.
	Interpreter string
	// Recursion lets a Starlark script's functions call themselves.
	Recursion bool
	// RunDir is the run directory (rundir=), where interpreter= finds
	// the login's Python again.
	RunDir string
	// Timeout is the module's deadline for one call (timeout=).
	Timeout time.Duration
}

// Deps are what a call uses from outside. A nil function is the real one.
type Deps struct {
	PAM PAM
	Log Logger
	// Trusted refuses a script or interpreter that anyone but root could
	// change (trust.File).
	Trusted func(path string) error
	// Identify names the login of the process pid (loginstate.Identifier;
	// a daemon's reads the boot id once).
	Identify func(pid int32, handle string) (loginstate.Login, error)
	// Starlark runs a script inside the helper (pamscript.Run).
	Starlark func(pamscript.Call) (int, error)
	// Python runs the call in the login's interpreter (pyengine.Run).
	Python func(pyengine.Call) int32
	// Now is the clock the interpreter's deadline counts from (time.Now).
	Now func() time.Time
}

// withDefaults fills in the real things for what the caller left nil, so
// that a missing dependency never skips a check.
func (d Deps) withDefaults() Deps {
	if d.Trusted == nil {
		d.Trusted = func(path string) error { return trust.File(path) }
	}
	if d.Starlark == nil {
		d.Starlark = pamscript.Run
	}
	if d.Python == nil {
		d.Python = pyengine.Run
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// entryPoints are the script's functions that the module's calls run.
var entryPoints = map[protocol.Fn]string{
	protocol.FnAuthenticate: "pam_sm_authenticate", protocol.FnSetcred: "pam_sm_setcred",
	protocol.FnAcctMgmt: "pam_sm_acct_mgmt", protocol.FnOpenSession: "pam_sm_open_session",
	protocol.FnCloseSession: "pam_sm_close_session", protocol.FnChauthtok: "pam_sm_chauthtok",
	protocol.FnEnd: "pam_sm_end",
}

// Entry is the script function that runs for the module's call fn ("" for
// none).
func Entry(fn protocol.Fn) string { return entryPoints[fn] }

// Path is where the script named on the module line is: a name without a
// path is under Dir, as pam_python has it.
func Path(script string) string {
	if strings.HasPrefix(script, "/") {
		return script
	}
	return filepath.Join(Dir, script)
}

// Run runs one PAM call of a script line and returns the PAM code for the
// module. peerPID is the calling process as the kernel knows it (the
// helper's parent, or the daemon's peer), never the call's own word. A
// script or interpreter that is not root's alone, or anything that keeps
// the call from running, is PAM_SERVICE_ERR with one log line.
func Run(req protocol.Call, args Args, peerPID int32, deps Deps) int32 {
	deps = deps.withDefaults()
	path := Path(args.Script)
	if err := deps.Trusted(path); err != nil {
		deps.Log.Error("%s: script %s refused: %v", req.Fn, logging.Quote(path), err)
		return protocol.PAMServiceErr
	}
	if args.Interpreter != "" {
		return runPython(req, args, path, peerPID, deps)
	}
	return runStarlark(req, args, path, deps)
}
