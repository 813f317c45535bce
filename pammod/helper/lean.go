//go:build lean

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// The lean helper (pam-accesscontrol-helper, built with -tags lean) is
// the program the module starts for each call that no daemon serves, so
// its start is most of what such a login costs. A Go program's start grows
// with what it links: the dynamic loader relocates every pointer in a
// PIE's data, and every linked package's init runs. Rule plugins
// (Starlark), OPA (net/http), PIN mail (SMTP, OpenPGP) and pam_python
// scripts are most of the full program and few configs use them; the lean
// build leaves them out (pammod/call/lean.go) and runs the calls of the
// other configs itself. A call it cannot run goes to the full helper
// beside it, unchanged: the lean helper looks at the call without taking
// it from the socket (peekCall), and execs the full helper, which then
// reads the call as if the module had started it. So both run the same
// code on the same call; only the start differs.

// fullHelper is the full helper's name, in the lean helper's directory.
const fullHelper = "pam-accesscontrol-helper-full"

// command: the daemon and the deliverer are the full helper's, with the
// same arguments.
func command(args []string) int {
	log := logging.Open()
	defer log.Close()
	err := execFull(log, "")
	log.Error("lean helper: cannot run the full helper for %s: %v", args[0], err)
	return 1
}

// ownCall says whether this process runs the call the module sent on fd 3:
// a call of a pam_python script, or under a config that needs the full
// helper (needsFull), is handed to the full one, which never returns. A
// call it runs comes with the config it was classified by, which the call
// then runs under. A failed hand-off logs one line and returns false: the
// helper exits without a result, and the module denies.
func ownCall(log *logging.Logger) (*rules.Config, bool) {
	req, err := peekCall(shimFD)
	if err != nil {
		// a call that is not all there yet, or no call: the full helper
		// reads it, or says what is wrong with it, as it always did
		return nil, handOff(log, fmt.Sprintf("the call: %v", err))
	}
	args, err := parseArgs(req.Args)
	if err != nil {
		return nil, true // the call denies with its own line (handle)
	}
	log.SetDebug(args.Debug)
	if args.Script != "" {
		return nil, handOff(log, "a pam_python script")
	}
	cfg, _ := rules.Load(rules.LoadOptions{Path: args.Conf})
	if why := needsFull(cfg); why != "" {
		return nil, handOff(log, why)
	}
	return cfg, true
}

// handOff gives the call to the full helper (execFull). It returns only
// when that failed, having logged one line: false, and the module denies.
func handOff(log *logging.Logger, why string) bool {
	err := execFull(log, why)
	log.Error("lean helper: cannot hand on to the full helper: %v; denying", err)
	return false
}

// execFull execs the full helper with this one's arguments (argv[0] too:
// the daemon is still the program its unit or its caller started, as ps
// shows it), descriptors and environment; why, when given, is logged at
// debug level. It returns only with the error that stopped it.
func execFull(log *logging.Logger, why string) error {
	full, err := fullHelperPath()
	if err != nil {
		return err
	}
	if why != "" {
		log.Debug("lean helper: handing the call to %s: %s", full, why)
	}
	return syscall.Exec(full, os.Args, os.Environ())
}

// fullHelperPath is the full helper beside this program, which must be as
// trusted as the module requires this one to be (helper_trusted in
// pam_accesscontrol.c): a regular file that only root, or the user running
// this, can change.
func fullHelperPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	full := filepath.Join(filepath.Dir(self), fullHelper)
	var st syscall.Stat_t
	if err := syscall.Stat(full, &st); err != nil {
		return "", &os.PathError{Op: "stat", Path: full, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || (st.Uid != 0 && int(st.Uid) != os.Geteuid()) ||
		st.Mode&(syscall.S_IWGRP|syscall.S_IWOTH) != 0 {
		return "", fmt.Errorf("%s is not a root-owned file writable only by its owner", full)
	}
	return full, nil
}

// pinSender: the lean helper mails no PIN; it hands PIN rules' configs to
// the full helper.
func pinSender(moduleArgs, *logging.Logger) call.PINSender { return nil }

// runScript: the lean helper hands scripts to the full helper (ownCall),
// so this is never reached; should it be, the call is denied.
func runScript(_ *protocol.Conn, req protocol.Call, _ moduleArgs, _ int32, _ served, log *logging.Logger) int32 {
	log.Error("%s: the lean helper runs no pam_python script; denying", req.Fn)
	return protocol.PAMServiceErr
}
