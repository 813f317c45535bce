package pamscript

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// PAM is the handle a script's pamh works on: in the product, requests to
// the module over the shim-helper protocol.
type PAM interface {
	GetItem(item int) (value string, set bool, err error)
	SetItem(item int, value string, set bool) error
	GetUser(prompt string, hasPrompt bool) (string, error)
	Converse(msgs []ConvMessage) ([]ConvResponse, error)
	GetEnv(name string) (string, bool, error)
	PutEnv(entry string) error
	EnvList() ([]string, error)
	FailDelay(usec int) error
	GetData(key string) (string, bool, error)
	SetData(key, value string, set bool) error
}

// ConvMessage and ConvResponse are one PAM conversation message and its
// answer.
type ConvMessage struct {
	Style int
	Text  string
}

type ConvResponse struct {
	Text    string
	Set     bool
	Retcode int // the application's resp_retcode, passed on as pam_python does
}

// PAMError is a failed libpam call: what pamh.exception carries.
type PAMError struct {
	Code int
	Op   string
}

func (e *PAMError) Error() string {
	return fmt.Sprintf("pamh.exception: %s: %s (pam_result %d)", e.Op, Strerror(e.Code), e.Code)
}

var _ starhost.PAMFailure = (*PAMError)(nil)

// PAMResult is the code, for the sandbox's catch() (starhost.PAMFailure):
// a caught PAMError's .pam_result, as pamh.exception has it.
func (e *PAMError) PAMResult() int { return e.Code }

// Strerror is pam_strerror.
func Strerror(code int) string { return pamconst.Strerror(code) }

// items are pamh's item attributes.
var items = map[string]int{
	"service": pamconst.ItemService, "user": pamconst.ItemUser, "tty": pamconst.ItemTTY,
	"rhost": pamconst.ItemRHost, "authtok": pamconst.ItemAuthtok, "oldauthtok": pamconst.ItemOldAuthtok,
	"ruser": pamconst.ItemRUser, "user_prompt": pamconst.ItemUserPrompt, "xdisplay": pamconst.ItemXDisplay,
	"authtok_type": pamconst.ItemAuthtokType,
}

// Pamh is pam_python's PamHandle for one call.
type Pamh struct {
	pam PAM
	env *pamEnv
}

// NewPamh wraps a handle.
func NewPamh(p PAM) *Pamh { return &Pamh{pam: p, env: &pamEnv{pam: p}} }

func (h *Pamh) String() string        { return "<pamh>" }
func (h *Pamh) Type() string          { return "PamHandle" }
func (h *Pamh) Freeze()               {}
func (h *Pamh) Truth() starlark.Bool  { return true }
func (h *Pamh) Hash() (uint32, error) { return 0, errors.New("unhashable: PamHandle") }

func (h *Pamh) AttrNames() []string {
	var names []string
	for n := range items {
		names = append(names, n)
	}
	for n := range pamConstants {
		names = append(names, n)
	}
	names = append(names, "env", "exception", "conversation", "get_user", "fail_delay", "strerror",
		"Message", "Response", "XAuthData", "libpam_version", "pamh", "py_initialized", "data", "xauthdata")
	sort.Strings(names)
	return names
}

func (h *Pamh) Attr(name string) (starlark.Value, error) {
	if item, ok := items[name]; ok {
		v, set, err := h.pam.GetItem(item)
		if err != nil {
			return nil, err
		}
		if !set {
			return starlark.None, nil
		}
		return starlark.String(v), nil
	}
	if c, ok := pamConstants[name]; ok {
		return starlark.MakeInt(c), nil
	}
	switch name {
	case "env":
		return h.env, nil
	case "exception":
		return starlark.String("PamException"), nil // caught errors carry .pam_result: see catch
	case "libpam_version":
		return starlark.String("1.5.2"), nil
	case "pamh":
		return starlark.MakeInt(0), nil
	case "py_initialized":
		return starlark.MakeInt(0), nil
	case "data":
		return &pamData{pam: h.pam}, nil
	case "xauthdata":
		return nil, errors.New("TypeError: pamh.xauthdata is not supported here")
	case "conversation":
		return starlark.NewBuiltin("conversation", h.conversation), nil
	case "get_user":
		return starlark.NewBuiltin("get_user", h.getUser), nil
	case "fail_delay":
		return starlark.NewBuiltin("fail_delay", h.failDelay), nil
	case "strerror":
		return starlark.NewBuiltin("strerror", strerror), nil
	case "Message":
		return starlark.NewBuiltin("Message", newMessage), nil
	case "Response":
		return starlark.NewBuiltin("Response", newResponse), nil
	case "XAuthData":
		return starlark.NewBuiltin("XAuthData", newXAuthData), nil
	}
	return nil, nil
}

func (h *Pamh) SetField(name string, v starlark.Value) error {
	item, ok := items[name]
	if !ok {
		if _, isConst := pamConstants[name]; isConst {
			return fmt.Errorf("AttributeError: attribute '%s' of 'PamHandle_type' objects is not writable", name)
		}
		return fmt.Errorf("AttributeError: pamh has no attribute %s to set", name)
	}
	if v == starlark.None {
		return h.pam.SetItem(item, "", false)
	}
	s, isString := starlark.AsString(v)
	if !isString {
		return fmt.Errorf("TypeError: PAM item PAM_%s must be set to a string", strings.ToUpper(name))
	}
	return h.pam.SetItem(item, s, true)
}

func newMessage(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var style int
	var msg string
	if err := starlark.UnpackArgs(b.Name(), args, kw, "msg_style", &style, "msg", &msg); err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlark.String("Message"), starlark.StringDict{
		"msg_style": starlark.MakeInt(style), "msg": starlark.String(msg)}), nil
}

func newResponse(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var resp starlark.Value
	var code int
	if err := starlark.UnpackArgs(b.Name(), args, kw, "resp", &resp, "resp_retcode", &code); err != nil {
		return nil, err
	}
	return response(resp, code), nil
}

func response(resp starlark.Value, code int) starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String("Response"), starlark.StringDict{
		"resp": resp, "resp_retcode": starlark.MakeInt(code)})
}

func newXAuthData(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var name, data string
	if err := starlark.UnpackArgs(b.Name(), args, kw, "name", &name, "data", &data); err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlark.String("XAuthData"), starlark.StringDict{
		"name": starlark.String(name), "data": starlark.String(data)}), nil
}

func strerror(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var code int
	if err := starlark.UnpackArgs(b.Name(), args, kw, "errnum", &code); err != nil {
		return nil, err
	}
	return starlark.String(Strerror(code)), nil
}

// conversation(prompts): one message gives one Response, a list or tuple
// gives a tuple of them. The clock pauses while the user answers.
func (h *Pamh) conversation(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var prompts starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kw, "prompts", &prompts); err != nil {
		return nil, err
	}
	var list []starlark.Value
	single := true
	switch p := prompts.(type) {
	case *starlark.List:
		single = false
		for i := 0; i < p.Len(); i++ {
			list = append(list, p.Index(i))
		}
	case starlark.Tuple:
		single = false
		list = p
	default:
		list = []starlark.Value{prompts}
	}
	if !single && len(list) == 0 {
		return prompts, nil
	}
	msgs := make([]ConvMessage, len(list))
	for i, m := range list {
		hm, ok := m.(starlark.HasAttrs)
		if !ok {
			return nil, fmt.Errorf("TypeError: conversation() wants Message objects, not %s", m.Type())
		}
		style, err1 := hm.Attr("msg_style")
		text, err2 := hm.Attr("msg")
		s, okStyle := starlark.AsInt32(style)
		txt, okText := starlark.AsString(text)
		if err1 != nil || err2 != nil || okStyle != nil || !okText {
			return nil, errors.New("TypeError: a Message has an int msg_style and a str msg")
		}
		msgs[i] = ConvMessage{Style: s, Text: txt}
	}
	var resp []ConvResponse
	var err error
	starhost.Pause(t, func() { resp, err = h.pam.Converse(msgs) })
	if err != nil {
		return nil, err
	}
	out := make(starlark.Tuple, len(resp))
	for i, r := range resp {
		v := starlark.Value(starlark.None)
		if r.Set {
			v = starlark.String(r.Text)
		}
		out[i] = response(v, r.Retcode)
	}
	if single {
		return out[0], nil
	}
	return out, nil
}

func (h *Pamh) getUser(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	prompt := starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "prompt?", &prompt); err != nil {
		return nil, err
	}
	p, has := starlark.AsString(prompt)
	var user string
	var err error
	starhost.Pause(t, func() { user, err = h.pam.GetUser(p, has) })
	if err != nil {
		return nil, err
	}
	return starlark.String(user), nil
}

func (h *Pamh) failDelay(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var usec int
	if err := starlark.UnpackArgs(b.Name(), args, kw, "micro_sec", &usec); err != nil {
		return nil, err
	}
	return starlark.None, h.pam.FailDelay(usec)
}

// pamEnv is pamh.env, a mapping over the PAM environment.
type pamEnv struct{ pam PAM }

func (e *pamEnv) String() string        { return "<pamh.env>" }
func (e *pamEnv) Type() string          { return "PamEnv" }
func (e *pamEnv) Freeze()               {}
func (e *pamEnv) Truth() starlark.Bool  { return true }
func (e *pamEnv) Hash() (uint32, error) { return 0, errors.New("unhashable: PamEnv") }

func envKey(k starlark.Value) (string, error) {
	s, ok := starlark.AsString(k)
	switch {
	case !ok:
		return "", errors.New("TypeError: PAM environment key must be a string")
	case s == "":
		return "", errors.New("ValueError: PAM environment key mustn't be 0 length")
	case strings.Contains(s, "="):
		return "", errors.New("ValueError: PAM environment key can't contain '='")
	}
	return s, nil
}

func (e *pamEnv) Get(k starlark.Value) (starlark.Value, bool, error) {
	key, err := envKey(k)
	if err != nil {
		return nil, false, err
	}
	v, ok, err := e.pam.GetEnv(key)
	if err != nil || !ok {
		return nil, false, err
	}
	return starlark.String(v), true, nil
}

func (e *pamEnv) SetKey(k, v starlark.Value) error {
	key, err := envKey(k)
	if err != nil {
		return err
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return errors.New("TypeError: PAM environment value must be a string")
	}
	return e.pam.PutEnv(key + "=" + s)
}

func (e *pamEnv) entries() ([][2]string, error) {
	list, err := e.pam.EnvList()
	if err != nil {
		return nil, err
	}
	out := make([][2]string, 0, len(list))
	for _, entry := range list {
		k, v, _ := strings.Cut(entry, "=")
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func (e *pamEnv) Len() int {
	list, _ := e.pam.EnvList()
	return len(list)
}

func (e *pamEnv) Iterate() starlark.Iterator {
	entries, _ := e.entries()
	keys := make([]starlark.Value, len(entries))
	for i, kv := range entries {
		keys[i] = starlark.String(kv[0])
	}
	return starlark.NewList(keys).Iterate()
}

func (e *pamEnv) AttrNames() []string {
	return []string{"get", "has_key", "items", "keys", "values", "iteritems", "iterkeys", "itervalues"}
}

func (e *pamEnv) Attr(name string) (starlark.Value, error) {
	list := func(pick func(kv [2]string) starlark.Value) (starlark.Value, error) {
		entries, err := e.entries()
		if err != nil {
			return nil, err
		}
		out := make([]starlark.Value, len(entries))
		for i, kv := range entries {
			out[i] = pick(kv)
		}
		return starlark.NewList(out), nil
	}
	method := func(fn func(args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error)) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			return fn(args, kw)
		})
	}
	switch name {
	case "get", "has_key":
		return method(func(args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var key, def starlark.Value = nil, starlark.None
			if err := starlark.UnpackArgs(name, args, kw, "key", &key, "default?", &def); err != nil {
				return nil, err
			}
			v, ok, err := e.Get(key)
			if err != nil {
				return nil, err
			}
			if name == "has_key" {
				return starlark.Bool(ok), nil
			}
			if !ok {
				return def, nil
			}
			return v, nil
		}), nil
	case "items", "iteritems":
		return method(func(starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return list(func(kv [2]string) starlark.Value {
				return starlark.Tuple{starlark.String(kv[0]), starlark.String(kv[1])}
			})
		}), nil
	case "keys", "iterkeys":
		return method(func(starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return list(func(kv [2]string) starlark.Value { return starlark.String(kv[0]) })
		}), nil
	case "values", "itervalues":
		return method(func(starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return list(func(kv [2]string) starlark.Value { return starlark.String(kv[1]) })
		}), nil
	}
	return nil, nil
}

// pamData is pamh.data: strings kept on the PAM handle between calls.
type pamData struct{ pam PAM }

func (d *pamData) String() string        { return "<pamh.data>" }
func (d *pamData) Type() string          { return "PamData" }
func (d *pamData) Freeze()               {}
func (d *pamData) Truth() starlark.Bool  { return true }
func (d *pamData) Hash() (uint32, error) { return 0, errors.New("unhashable: PamData") }

func (d *pamData) Get(k starlark.Value) (starlark.Value, bool, error) {
	key, ok := starlark.AsString(k)
	if !ok {
		return nil, false, errors.New("TypeError: pamh.data keys are strings")
	}
	v, set, err := d.pam.GetData("user:" + key)
	if err != nil || !set {
		return nil, false, err
	}
	return starlark.String(v), true, nil
}

func (d *pamData) SetKey(k, v starlark.Value) error {
	key, ok := starlark.AsString(k)
	val, okv := starlark.AsString(v)
	if !ok || (!okv && v != starlark.None) {
		return errors.New("TypeError: pamh.data maps strings to strings")
	}
	return d.pam.SetData("user:"+key, val, v != starlark.None)
}

func (d *pamData) AttrNames() []string { return []string{"get"} }

func (d *pamData) Attr(name string) (starlark.Value, error) {
	if name != "get" {
		return nil, nil
	}
	return starlark.NewBuiltin("get", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var key, def starlark.Value = nil, starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kw, "key", &key, "default?", &def); err != nil {
			return nil, err
		}
		v, ok, err := d.Get(key)
		if err != nil || !ok {
			return def, err
		}
		return v, nil
	}), nil
}
