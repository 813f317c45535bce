package script

import (
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/pyengine"
)

// runPython runs the call in the login's interpreter process, which the
// run directory keeps for the login's later calls: so the login is named
// as rule mode names it (loginstate.Opener), by the kernel's pid.
func runPython(req protocol.Call, args Args, path string, peerPID int32, deps Deps) int32 {
	// pam_end is let through: it starts no interpreter, it only ends the
	// login's, which an interpreter changed since must not keep running
	if err := deps.Trusted(args.Interpreter); err != nil && req.Fn != protocol.FnEnd {
		deps.Log.Error("%s: interpreter %s refused: %v", req.Fn, logging.Quote(args.Interpreter), err)
		return protocol.PAMServiceErr
	}
	store, caller, err := loginstate.Opener{Dir: args.RunDir, Identify: deps.Identify}.Open(peerPID, req.PID, req.Handle)
	if err != nil {
		deps.Log.Error("%s: %v; denying", req.Fn, err)
		return protocol.PAMServiceErr
	}
	return deps.Python(pyengine.Call{Req: req, PAM: deps.PAM, Interpreter: args.Interpreter, Script: path,
		Argv: args.Argv, Entry: Entry(req.Fn), Store: store, Caller: caller,
		Deadline: deps.Now().Add(args.Timeout - time.Second/2), Log: deps.Log})
}
