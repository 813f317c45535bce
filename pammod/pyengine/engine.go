// Package pyengine runs pam_python scripts in a real CPython, out of the
// host process: `pam_accesscontrol.so interpreter=/usr/bin/python3 SCRIPT
// [args…]`. Real-world modules (HTTP, LDAP, SQL) cannot run in Starlark;
// here they run unmodified, with pam_python's pamh (host.py), whose every
// call reaches the application through the helper and the module.
//
// One interpreter process per login, started by the first call and found
// again by the later ones through loginstate (the same process, or one
// fork away, holding the same PAM handle), keeps the scripts' module state
// for the life of the handle, as pam_python does: across auth, account,
// session and pam_end, and across sshd's fork. It ends at pam_end, when no
// process of its login is left, or when a call goes wrong.
package pyengine

import (
	"bufio"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

//go:embed host.py
var hostSource string

// engineDataKey keeps the engine's login id on the PAM handle.
const engineDataKey = "pyengine"

// Logger is where the engine's lines go (syslog, AUTHPRIV).
type Logger interface {
	Info(format string, args ...any)
	Error(format string, args ...any)
	Debug(format string, args ...any)
}

// PAM is the application's PAM handle, reached through the module:
// everything pam_python's pamh does (protocol.Conn).
type PAM interface {
	GetItem(item int32) (protocol.Opt, error)
	SetItem(item int32, v protocol.Opt) error
	GetUser(prompt protocol.Opt) (string, error)
	Converse(msgs []protocol.ConvMessage) ([]protocol.ConvResponse, error)
	GetEnv(name string) (protocol.Opt, error)
	PutEnv(entry string) error
	EnvList() ([]string, error)
	FailDelay(usec int32) error
	GetData(key string) (protocol.Opt, error)
	SetData(key string, v protocol.Opt) error
	GetXAuth() (name, data protocol.Opt, err error)
	SetXAuth(name, data string) error
}

// Call is one PAM call of a script line in interpreter= mode.
type Call struct {
	Req         protocol.Call
	PAM         PAM
	Interpreter string   // absolute path, trusted by the caller
	Script      string   // the script's resolved path, trusted by the caller
	Argv        []string // pam_python's argv: the script as written, then its arguments
	Entry       string   // pam_sm_authenticate, …, pam_sm_end
	Store       *loginstate.Store
	Caller      loginstate.Login
	Deadline    time.Time // the module's own, less a margin
	Log         Logger
}

// Run runs the call's entry point in the login's interpreter, starting it
// when the login has none. Anything that goes wrong is PAM_SERVICE_ERR
// with one log line naming the script.
func Run(c Call) int32 {
	handleID := ""
	if v, err := c.PAM.GetData(engineDataKey); err == nil && v.Valid {
		handleID = v.S
	}
	e, found := c.Store.FindEngine(c.Caller, handleID)
	if !found && c.Req.Fn == protocol.FnEnd {
		// libpam gives no PAM data during pam_end: the process alone
		// names the login whose handle ends
		e, found = c.Store.FindEngine(c.Caller, loginstate.AnyHandle)
	}
	if found && !(loginstate.Identifier{}).Alive(e.Process) {
		c.Store.ForgetEngine(e)
		if c.Req.Fn == protocol.FnEnd {
			return protocol.PAMSuccess
		}
		c.Log.Error("%s: script %q: its Python (pid %d) is gone, and with it the script's state; denying",
			c.Req.Fn, c.Script, e.Process.PID)
		return protocol.PAMServiceErr
	}
	if found && e.Owner.Self != c.Caller.Self && c.Req.Fn != protocol.FnEnd {
		c.adopt(e)
	}
	if found && e.Path != c.Interpreter && c.Req.Fn != protocol.FnEnd {
		c.Log.Error("%s: script %q: this login's scripts run in %s, not %s: one login, one interpreter; denying",
			c.Req.Fn, c.Script, e.Path, c.Interpreter)
		return protocol.PAMServiceErr
	}
	if !found {
		if c.Req.Fn == protocol.FnEnd {
			return protocol.PAMSuccess // never loaded: nothing to end
		}
		var err error
		if e, err = c.start(handleID); err != nil {
			c.Log.Error("%s: script %q: %s cannot be started: %v; denying", c.Req.Fn, c.Script, c.Interpreter, err)
			return protocol.PAMServiceErr
		}
	}
	code, err := c.exchange(e)
	if err != nil && c.Req.Fn == protocol.FnEnd {
		// a Python that died in an earlier call (already said, and
		// denied) may not be gone yet when pam_end comes: nothing is
		// left to end, and pam_end's answer decides nothing
		c.stop(e)
		c.Store.ForgetEngine(e)
		c.Log.Debug("%s: script %q: %v; its Python is ended", c.Req.Fn, c.Script, err)
		return protocol.PAMSuccess
	}
	if err != nil {
		c.stop(e)
		c.Log.Error("%s: script %q: %v; denying", c.Req.Fn, c.Script, err)
		return protocol.PAMServiceErr
	}
	if c.Req.Fn == protocol.FnEnd {
		c.Store.ForgetEngine(e) // the interpreter exits by itself
	}
	return code
}

// start runs a new interpreter for the caller's login: detached in its own
// session, root's, with the application's environment (Environ), the
// listening socket on fd 3.
func (c Call) start(handleID string) (loginstate.Engine, error) {
	path, err := c.Store.EngineSocket()
	if err != nil {
		return loginstate.Engine{}, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return loginstate.Engine{}, err
	}
	defer ln.Close() // the interpreter has its own copy
	ln.SetUnlinkOnClose(false)
	f, err := ln.File()
	if err != nil {
		os.Remove(path)
		return loginstate.Engine{}, err
	}
	defer f.Close()
	consts := map[string]int{}
	for _, k := range pamconst.All() {
		consts[k.Name] = k.Value
	}
	var strerr []string
	for i := 0; i < pamconst.ReturnValues; i++ {
		strerr = append(strerr, pamconst.Strerror(i))
	}
	cj, _ := json.Marshal(consts)
	sj, _ := json.Marshal(strerr)
	owner, parent := c.Caller.Self, c.Caller.Parent
	cmd := exec.Command(c.Interpreter, "-I", "-c", hostSource,
		itoa(int64(owner.PID)), utoa(owner.Start), itoa(int64(parent.PID)), utoa(parent.Start), path)
	cmd.Dir = "/"
	cmd.Env = append(Environ(loginstate.Identifier{}, owner),
		"PAMAC_CONSTANTS="+string(cj), "PAMAC_STRERROR="+string(sj))
	cmd.ExtraFiles = []*os.File{f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		os.Remove(path)
		return loginstate.Engine{}, err
	}
	go cmd.Wait() // reaped by a daemon; a helper run for one call exits first, and init reaps it
	proc, _, err := loginstate.Identifier{}.Stat(int32(cmd.Process.Pid))
	if err != nil {
		cmd.Process.Kill()
		os.Remove(path)
		return loginstate.Engine{}, err
	}
	if handleID == "" {
		handleID = audit.NewLoginID()
		if err := c.PAM.SetData(engineDataKey, protocol.Some(handleID)); err != nil {
			c.Log.Debug("keeping the engine's id on the handle: %v", err)
		}
	}
	e := loginstate.Engine{Owner: c.Caller, LoginID: handleID, Socket: path, Process: proc, Path: c.Interpreter}
	if err := c.Store.SaveEngine(e); err != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		os.Remove(path)
		return loginstate.Engine{}, fmt.Errorf("keeping it for the login's later calls: %w", err)
	}
	c.Log.Debug("%s: script %q: started %s (pid %d) for this login", c.Req.Fn, c.Script, c.Interpreter, proc.PID)
	return e, nil
}

// stop kills an engine whose call went wrong: its state can no longer be
// trusted, and a later call of the login is denied rather than run anew.
func (c Call) stop(e loginstate.Engine) {
	if (loginstate.Identifier{}).Alive(e.Process) {
		syscall.Kill(-int(e.Process.PID), syscall.SIGKILL)
	}
	// the record stays: the login's next call finds its Python gone and
	// is denied (pam_end forgets it)
}

// adopt makes the engine this process's too, when it got it from the
// process one fork away (sshd's monitor after its keyboard-interactive
// child): the id goes on this process's handle and a record is filed
// under it, so that a child it forks next (the session's shell, which
// runs setcred) finds the same interpreter, not a new one.
func (c Call) adopt(e loginstate.Engine) {
	if err := c.PAM.SetData(engineDataKey, protocol.Some(e.LoginID)); err != nil {
		c.Log.Debug("keeping the engine's id on the handle: %v", err)
		return
	}
	e.Owner = c.Caller
	if err := c.Store.SaveEngine(e); err != nil {
		c.Log.Debug("keeping the engine for this process: %v", err)
	}
}

// message is one line between the helper and the interpreter.
type message struct {
	Op     string          `json:"op"`
	Code   int32           `json:"code"`
	Error  string          `json:"error,omitempty"`
	Where  string          `json:"where,omitempty"`
	Item   int32           `json:"item,omitempty"`
	Value  json.RawMessage `json:"value,omitempty"`
	Prompt *string         `json:"prompt,omitempty"`
	Msgs   [][2]any        `json:"msgs,omitempty"`
	Name   string          `json:"name,omitempty"`
	Entry  string          `json:"entry,omitempty"`
	USec   int32           `json:"usec,omitempty"`
}

// exchange sends the call and serves the script's pamh requests until its
// result, within the deadline.
func (c Call) exchange(e loginstate.Engine) (int32, error) {
	conn, err := net.DialTimeout("unix", e.Socket, time.Until(c.Deadline))
	if err != nil {
		return 0, fmt.Errorf("its Python cannot be reached: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(c.Deadline)
	w := json.NewEncoder(conn)
	r := bufio.NewReaderSize(conn, 64<<10)
	err = w.Encode(map[string]any{"op": "call", "script": c.Script, "entry": c.Entry,
		"flags": c.Req.Flags, "argv": c.Argv, "caller": []any{c.Caller.Self.PID, c.Caller.Self.Start},
		"handle": handleAddress(c.Req.Handle)})
	if err != nil {
		return 0, fmt.Errorf("its Python went away: %w", err)
	}
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, fmt.Errorf("no answer within the module's timeout (a script that hangs?)")
			}
			return 0, fmt.Errorf("its Python ended without an answer (crashed?): %v", err)
		}
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			return 0, fmt.Errorf("its Python sent garbage: %v", err)
		}
		if m.Op == "result" {
			if m.Error != "" {
				c.Log.Error("%s: script %q: %s; returning %d (%s)", c.Req.Fn, c.Script, describe(m), m.Code, pamconst.Strerror(int(m.Code)))
				c.Log.Debug("%s: script %q: %s", c.Req.Fn, c.Script, m.Error)
			}
			if m.Code < 0 || m.Code >= pamconst.ReturnValues {
				return 0, fmt.Errorf("its Python answered %d, which is not a PAM code", m.Code)
			}
			return m.Code, nil
		}
		code, value := c.serve(m)
		if err := w.Encode(map[string]any{"code": code, "value": value}); err != nil {
			return 0, fmt.Errorf("its Python went away: %w", err)
		}
	}
}

// describe is the one-line form of a script's failure: where, and the
// exception's last line.
func describe(m message) string {
	lines := strings.Split(strings.TrimSpace(m.Error), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if m.Where == "" {
		return last
	}
	return m.Where + ": " + last
}

// serve answers one pamh request through the module.
func (c Call) serve(m message) (int32, any) {
	code := func(err error) int32 {
		var pe *protocol.PAMError
		if errors.As(err, &pe) {
			return pe.Code
		}
		if err != nil {
			return pamconst.SystemErr
		}
		return pamconst.Success
	}
	switch m.Op {
	case "get_item":
		v, err := c.PAM.GetItem(m.Item)
		return code(err), optValue(v)
	case "set_item":
		var s *string
		json.Unmarshal(m.Value, &s)
		v := protocol.Opt{}
		if s != nil {
			v = protocol.Some(*s)
		}
		return code(c.PAM.SetItem(m.Item, v)), nil
	case "get_user":
		p := protocol.Opt{}
		if m.Prompt != nil {
			p = protocol.Some(*m.Prompt)
		}
		u, err := c.PAM.GetUser(p)
		return code(err), u
	case "conv":
		msgs := make([]protocol.ConvMessage, len(m.Msgs))
		for i, x := range m.Msgs {
			style, _ := x[0].(float64)
			text, _ := x[1].(string)
			msgs[i] = protocol.ConvMessage{Style: int32(style), Text: text}
		}
		resp, err := c.PAM.Converse(msgs)
		if err != nil {
			if code(err) == pamconst.SystemErr {
				return pamconst.ConvErr, nil
			}
			return code(err), nil
		}
		out := make([][2]any, len(resp))
		for i, r := range resp {
			out[i] = [2]any{optValue(r.Resp), r.Retcode}
		}
		return pamconst.Success, out
	case "getenv":
		v, err := c.PAM.GetEnv(m.Name)
		return code(err), optValue(v)
	case "putenv":
		return code(c.PAM.PutEnv(m.Name)), nil
	case "envlist":
		l, err := c.PAM.EnvList()
		return code(err), l
	case "fail_delay":
		return code(c.PAM.FailDelay(m.USec)), nil
	case "get_xauth":
		name, data, err := c.PAM.GetXAuth()
		if err != nil || !name.Valid {
			return code(err), nil
		}
		// bytes, as hex: host.py decodes them as pam_python does
		return pamconst.Success, [2]string{hex.EncodeToString([]byte(name.S)), hex.EncodeToString([]byte(data.S))}
	case "set_xauth":
		var v [2]string
		if json.Unmarshal(m.Value, &v) != nil {
			return pamconst.SystemErr, nil
		}
		return code(c.PAM.SetXAuth(v[0], v[1])), nil
	}
	return pamconst.SystemErr, nil
}

func optValue(o protocol.Opt) any {
	if !o.Valid {
		return nil
	}
	return o.S
}

// handleAddress is the pam_handle_t's address the module sent ("%p"), for
// pamh.pamh: scripts key per-login files by it (accesscontrol.py's
// /tmp/session-<pamh.pamh>), as pam_python gives it. 0 if unreadable.
func handleAddress(h string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(h, "0x"), 16, 64)
	return n
}

func itoa(n int64) string  { return strconv.FormatInt(n, 10) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
