// Command pam-accesscontrol-helper runs PAM calls for pam_accesscontrol.so.
//
// Started by the module (no arguments), it runs one call: the socketpair
// is on fd 3, stdin, stdout and stderr on /dev/null, the environment fixed;
// it reads the call, asks the module for what it needs, sends a PAM code
// and exits 0. Anything else (a crash, exit 2 on a Go panic, a malformed
// message) makes the module deny.
//
// With --daemon [--socket PATH] it serves calls over a unix socket instead
// (daemon.go), which the module tries first.
//
// It is built twice: in full (pam-accesscontrol-helper-full, full.go) and
// lean (pam-accesscontrol-helper, go build -tags lean, lean.go), the one
// the module runs, which runs the calls of an ordinary rules file itself and
// hands every other to the full one (lean.go says why).
package main

import (
	"os"
	"runtime/debug"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// shimFD is where the shim puts its end of the socketpair.
const shimFD = 3

func main() {
	if len(os.Args) > 1 {
		os.Exit(command(os.Args[1:])) // --daemon, --deliver (full.go, lean.go)
	}
	os.Exit(run())
}

func run() (exit int) {
	log := logging.Open()
	defer log.Close()
	sock := os.NewFile(shimFD, "pam_accesscontrol.so")
	if sock == nil {
		log.Error("helper started without the module's socket on fd %d; denying", shimFD)
		return 1
	}
	// the lean helper hands the calls it cannot run to the full one
	// (lean.go), and returns only for a failed hand-off, which denies
	loaded, own := ownCall(log)
	if !own {
		return 1
	}
	conn := protocol.NewConn(sock)
	defer func() {
		if p := recover(); p != nil {
			log.Error("internal error, denying: %v\n%s", p, debug.Stack())
			exit = 1 // the shim fails closed on any exit but 0
		}
	}()

	call, err := conn.ReadCall()
	if err != nil {
		log.Error("%v; denying", err)
		return 1
	}
	// nothing started from here may keep the module's socket open
	syscall.CloseOnExec(shimFD)
	code, outbox := handle(conn, call, parentPID(), served{loaded: loaded}, log)
	if err := conn.Result(code); err != nil {
		log.Error("sending the result to the module: %v", err)
		return 1
	}
	startDeliverer(outbox, log)
	return 0
}

// handle runs the call of process peerPID (as the kernel names it) and
// returns the PAM code for the shim, and the outbox to deliver once the
// code is sent ("" for none).
func handle(conn *protocol.Conn, call protocol.Call, peerPID int32, by served, log *logging.Logger) (int32, string) {
	args, err := parseArgs(call.Args)
	if err != nil {
		if call.Fn != protocol.FnEnd { // the login's own calls said it already
			log.Error("%s: %v; denying", call.Fn, err)
		}
		return protocol.PAMServiceErr, ""
	}
	log.SetDebug(args.Debug)
	if args.Script != "" {
		return runScript(conn, call, args, peerPID, by, log), ""
	}
	r := runRules(conn, call, args, peerPID, by, log)
	return r.Code, r.Outbox
}
