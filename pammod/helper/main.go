// Command pam-accesscontrol-helper runs one PAM call for
// pam_accesscontrol.so. The shim starts it with the socketpair on fd 3,
// stdin, stdout and stderr on /dev/null and a fixed environment; it reads
// the call, asks the shim for what it needs, sends a PAM code and exits 0.
// Anything else (a crash, exit 2 on a Go panic, a malformed message)
// makes the shim deny.
package main

import (
	"os"
	"runtime/debug"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// shimFD is where the shim puts its end of the socketpair.
const shimFD = 3

func main() {
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
	code := handle(conn, call, log)
	if err := conn.Result(code); err != nil {
		log.Error("sending the result to the module: %v", err)
		return 1
	}
	return 0
}

// handle runs the call and returns the PAM code for the shim.
func handle(conn *protocol.Conn, call protocol.Call, log *logging.Logger) int32 {
	args, err := parseArgs(call.Args)
	if err != nil {
		log.Error("%s: %v; denying", call.Fn, err)
		return protocol.PAMServiceErr
	}
	log.SetDebug(args.Debug)
	if args.Script != "" {
		log.Error("%s: %s: pam_python scripts are not supported yet; denying", call.Fn, logging.Quote(args.Script))
		return protocol.PAMServiceErr
	}
	c := &ruleCall{conn: conn, call: call, args: args, log: log, store: newStore(args.RunDir)}
	return c.run()
}
