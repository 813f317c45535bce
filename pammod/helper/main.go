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
package main

import (
	"flag"
	"os"
	"runtime/debug"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// shimFD is where the shim puts its end of the socketpair.
const shimFD = 3

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--deliver" {
		os.Exit(runDeliver(os.Args[2:]))
	}
	if len(os.Args) > 1 {
		os.Exit(runDaemon(os.Args[1:]))
	}
	os.Exit(run())
}

func runDaemon(args []string) int {
	fs := flag.NewFlagSet("pam-accesscontrol-helper", flag.ContinueOnError)
	serve := fs.Bool("daemon", false, "serve PAM calls on a unix socket")
	socket := fs.String("socket", DefaultSocket, "the socket, unless systemd passes one")
	phaseLogPath := fs.String("phase-log", "", "append how long each phase of each call took to this file, a JSON line a call (for make bench)")
	if fs.Parse(args) != nil || !*serve || fs.NArg() > 0 {
		fs.Usage()
		return 64
	}
	log := logging.Open()
	defer log.Close()
	var phases *phaseLog
	if *phaseLogPath != "" {
		f, err := os.OpenFile(*phaseLogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			log.Error("daemon: --phase-log: %v", err)
			return 1
		}
		defer f.Close()
		phases = &phaseLog{w: f}
	}
	if err := daemon(*socket, phases, log); err != nil {
		log.Error("daemon: %v", err)
		os.Stderr.WriteString("pam-accesscontrol-helper: " + err.Error() + "\n")
		return 1
	}
	return 0
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
	// nothing started from here may keep the module's socket open
	syscall.CloseOnExec(shimFD)
	code, outbox := handle(conn, call, parentPID(), served{}, log)
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
