package script

import (
	"errors"
	"path/filepath"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pamscript"
)

// runStarlark runs the script inside the helper. Its syslog() and print()
// lines go to the log under the script's name; an error is logged with the
// code it became (never PAM_SUCCESS: pamscript.Run).
func runStarlark(req protocol.Call, args Args, path string, deps Deps) int32 {
	name := filepath.Base(path)
	code, err := deps.Starlark(pamscript.Call{
		Path:      path,
		Argv:      args.Argv,
		Entry:     Entry(req.Fn),
		Flags:     int(req.Flags),
		Recursion: args.Recursion,
		PAM:       pamh{deps.PAM},
		Host: &starhost.Host{Log: func(priority int, msg string) {
			if priority <= 3 {
				deps.Log.Error("%s: %s", name, msg)
			} else {
				deps.Log.Info("%s: %s", name, msg)
			}
		}},
	})
	if err != nil {
		deps.Log.Error("%s: script %s: %v; returning %d (%s)", req.Fn, logging.Quote(path), err, code, pamscript.Strerror(code))
	}
	return int32(code)
}

// pamh is pamscript.PAM over the module's handle: the PAM code of a
// request libpam refused becomes a pamscript.PAMError, what the script's
// pamh.exception carries.
type pamh struct{ p PAM }

func pamErr(op string, err error) error {
	var pe *protocol.PAMError
	if errors.As(err, &pe) {
		return &pamscript.PAMError{Code: int(pe.Code), Op: op}
	}
	return err
}

func (h pamh) GetItem(item int) (string, bool, error) {
	v, err := h.p.GetItem(int32(item))
	return v.S, v.Valid, pamErr("get item", err)
}

func (h pamh) SetItem(item int, value string, set bool) error {
	return pamErr("set item", h.p.SetItem(int32(item), protocol.Opt{S: value, Valid: set}))
}

func (h pamh) GetUser(prompt string, hasPrompt bool) (string, error) {
	u, err := h.p.GetUser(protocol.Opt{S: prompt, Valid: hasPrompt})
	return u, pamErr("get_user", err)
}

func (h pamh) Converse(msgs []pamscript.ConvMessage) ([]pamscript.ConvResponse, error) {
	m := make([]protocol.ConvMessage, len(msgs))
	for i, x := range msgs {
		m[i] = protocol.ConvMessage{Style: int32(x.Style), Text: x.Text}
	}
	resp, err := h.p.Converse(m)
	if err != nil {
		return nil, pamErr("conversation", err)
	}
	out := make([]pamscript.ConvResponse, len(resp))
	for i, r := range resp {
		out[i] = pamscript.ConvResponse{Text: r.Resp.S, Set: r.Resp.Valid, Retcode: int(r.Retcode)}
	}
	return out, nil
}

func (h pamh) GetEnv(name string) (string, bool, error) {
	v, err := h.p.GetEnv(name)
	return v.S, v.Valid, pamErr("getenv", err)
}

func (h pamh) PutEnv(entry string) error { return pamErr("putenv", h.p.PutEnv(entry)) }

func (h pamh) EnvList() ([]string, error) {
	l, err := h.p.EnvList()
	return l, pamErr("getenvlist", err)
}

func (h pamh) FailDelay(usec int) error { return pamErr("fail_delay", h.p.FailDelay(int32(usec))) }

func (h pamh) GetData(key string) (string, bool, error) {
	v, err := h.p.GetData(key)
	return v.S, v.Valid, pamErr("get data", err)
}

func (h pamh) SetData(key, value string, set bool) error {
	return pamErr("set data", h.p.SetData(key, protocol.Opt{S: value, Valid: set}))
}
