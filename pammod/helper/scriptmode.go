//go:build !lean

package main

import (
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/script"
)

// runScript is script mode (a script on the module line): pammod/script
// with the real things behind its interfaces. The login is named as rule
// mode names it, with the daemon's Identifier when a daemon serves the call.
func runScript(conn *protocol.Conn, req protocol.Call, args moduleArgs, peerPID int32, by served, log *logging.Logger) int32 {
	return script.Run(req, script.Args{Script: args.Script, Argv: args.ScriptArgs, Interpreter: args.Interpreter,
		Recursion: args.Recursion, RunDir: args.RunDir, Timeout: args.Timeout},
		peerPID, script.Deps{PAM: conn, Log: log, Identify: by.ids.Identify})
}
