package main

import (
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/pyengine"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// scriptDir is where pam_python looks for a script named without a path.
const scriptDir = "/lib/security/"

var entryPoints = map[protocol.Fn]string{
	protocol.FnAuthenticate: "pam_sm_authenticate", protocol.FnSetcred: "pam_sm_setcred",
	protocol.FnAcctMgmt: "pam_sm_acct_mgmt", protocol.FnOpenSession: "pam_sm_open_session",
	protocol.FnCloseSession: "pam_sm_close_session", protocol.FnChauthtok: "pam_sm_chauthtok",
	protocol.FnEnd: "pam_sm_end",
}

// runScript is script mode: `pam_accesscontrol.so SCRIPT [args…]` runs a
// pam_python script in Starlark (pam_python.md), or with interpreter= in
// that real Python (pammod/pyengine).
func runScript(conn *protocol.Conn, call protocol.Call, args moduleArgs, peerPID int32, log *logging.Logger) int32 {
	path := args.Script
	if !strings.HasPrefix(path, "/") {
		path = filepath.Join(scriptDir, path)
	}
	if err := rules.CheckTrusted(path); err != nil {
		log.Error("%s: script %s refused: %v", call.Fn, logging.Quote(path), err)
		return protocol.PAMServiceErr
	}
	if args.Interpreter != "" {
		return runPython(conn, call, args, path, peerPID, log)
	}
	code, err := starhost.RunScript(starhost.ScriptCall{
		Path:      path,
		Argv:      args.ScriptArgs,
		Entry:     entryPoints[call.Fn],
		Flags:     int(call.Flags),
		Recursion: args.Recursion,
		PAM:       connPAM{conn},
		Host: &starhost.Host{Log: func(priority int, msg string) {
			if priority <= 3 {
				log.Error("%s: %s", filepath.Base(path), msg)
			} else {
				log.Info("%s: %s", filepath.Base(path), msg)
			}
		}},
	})
	if err != nil {
		log.Error("%s: script %s: %v; returning %d (%s)", call.Fn, logging.Quote(path), err, code, starhost.Strerror(code))
	}
	return int32(code)
}

// connPAM is starhost.PAM over the module's protocol.
type connPAM struct{ c *protocol.Conn }

func pamErr(op string, err error) error {
	var pe *protocol.PAMError
	if errors.As(err, &pe) {
		return &starhost.PAMError{Code: int(pe.Code), Op: op}
	}
	return err
}

func (p connPAM) GetItem(item int) (string, bool, error) {
	v, err := p.c.GetItem(int32(item))
	return v.S, v.Valid, pamErr("get item", err)
}

func (p connPAM) SetItem(item int, value string, set bool) error {
	return pamErr("set item", p.c.SetItem(int32(item), protocol.Opt{S: value, Valid: set}))
}

func (p connPAM) GetUser(prompt string, hasPrompt bool) (string, error) {
	u, err := p.c.GetUser(protocol.Opt{S: prompt, Valid: hasPrompt})
	return u, pamErr("get_user", err)
}

func (p connPAM) Converse(msgs []starhost.ConvMessage) ([]starhost.ConvResponse, error) {
	m := make([]protocol.ConvMessage, len(msgs))
	for i, x := range msgs {
		m[i] = protocol.ConvMessage{Style: int32(x.Style), Text: x.Text}
	}
	resp, err := p.c.Converse(m)
	if err != nil {
		return nil, pamErr("conversation", err)
	}
	out := make([]starhost.ConvResponse, len(resp))
	for i, r := range resp {
		out[i] = starhost.ConvResponse{Text: r.Resp.S, Set: r.Resp.Valid, Retcode: int(r.Retcode)}
	}
	return out, nil
}

func (p connPAM) GetEnv(name string) (string, bool, error) {
	v, err := p.c.GetEnv(name)
	return v.S, v.Valid, pamErr("getenv", err)
}

func (p connPAM) PutEnv(entry string) error { return pamErr("putenv", p.c.PutEnv(entry)) }

func (p connPAM) EnvList() ([]string, error) {
	l, err := p.c.EnvList()
	return l, pamErr("getenvlist", err)
}

func (p connPAM) FailDelay(usec int) error { return pamErr("fail_delay", p.c.FailDelay(int32(usec))) }

func (p connPAM) GetData(key string) (string, bool, error) {
	v, err := p.c.GetData(key)
	return v.S, v.Valid, pamErr("get data", err)
}

func (p connPAM) SetData(key, value string, set bool) error {
	return pamErr("set data", p.c.SetData(key, protocol.Opt{S: value, Valid: set}))
}

// runPython runs the script in the login's interpreter process.
func runPython(conn *protocol.Conn, call protocol.Call, args moduleArgs, path string, peerPID int32, log *logging.Logger) int32 {
	if err := rules.CheckTrusted(args.Interpreter); err != nil && call.Fn != protocol.FnEnd {
		log.Error("%s: interpreter %s refused: %v", call.Fn, logging.Quote(args.Interpreter), err)
		return protocol.PAMServiceErr
	}
	if peerPID != call.PID {
		log.Error("%s: the module says it runs in process %d, the kernel says %d; denying", call.Fn, call.PID, peerPID)
		return protocol.PAMServiceErr
	}
	store, err := loginstate.Open(args.RunDir, nil)
	if err != nil {
		log.Error("%s: %v; denying", call.Fn, err)
		return protocol.PAMServiceErr
	}
	caller, err := loginstate.Identifier{}.Identify(peerPID, call.Handle)
	if err != nil {
		log.Error("%s: who is logging in: %v; denying", call.Fn, err)
		return protocol.PAMServiceErr
	}
	return pyengine.Run(pyengine.Call{Req: call, PAM: conn, Interpreter: args.Interpreter, Script: path,
		Argv: args.ScriptArgs, Entry: entryPoints[call.Fn], Store: store, Caller: caller,
		Deadline: time.Now().Add(args.Timeout - time.Second/2), Log: log})
}
