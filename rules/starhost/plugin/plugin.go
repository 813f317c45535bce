// Package plugin runs rule plugins: for a rule `SERVICE <name> TARGET
// LIST` whose target names the login, plugins/<name>.star's decide(ctx)
// answers "OPEN", "CLOSE", "ASK" or None (docs/rules.md). Each runs in the
// starhost sandbox, fresh for each login, within the login's deadline.
//
// Plugins are not pam_python scripts: they get ctx, not pamh, and keep no
// state (rules/starhost/pamscript is the pam_python runtime).
package plugin

import (
	"context"
	"fmt"
	"net/netip"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// Runner runs the plugins of a config. It implements rules.Plugins.
type Runner struct {
	Host *starhost.Host
	// Files maps plugin names to their files (rules.Config.Plugins).
	Files    map[string]string
	Groups   rules.Groups
	Sessions rules.Sessions
	// Converse talks to the user through the PAM conversation: a prompt
	// (echo or not) returns the answer; an info or error message returns
	// "". Nil: ctx.prompt fails, and the plugin with it.
	Converse func(style int, msg string) (string, error)
}

// PAM message styles for Converse (internal/pamconst).
const (
	PromptEchoOff = pamconst.PromptEchoOff
	PromptEchoOn  = pamconst.PromptEchoOn
	ErrorMsg      = pamconst.ErrorMsg
	TextInfo      = pamconst.TextInfo
)

// Decide runs one plugin for one login.
func (p *Runner) Decide(ctx context.Context, r *rules.Rule, l rules.Login) (rules.Answer, error) {
	path, ok := p.Files[r.Plugin]
	if !ok {
		return 0, fmt.Errorf("no file for plugin %s", r.Plugin)
	}
	script, err := starhost.Load(path)
	if err != nil {
		return 0, err
	}
	run, err := script.Start(p.Host)
	if err != nil {
		return 0, err
	}
	defer run.Stop()
	stop := context.AfterFunc(ctx, func() { run.Thread().Cancel("the login's deadline passed") })
	defer stop()
	c, err := p.ctxValue(ctx, l)
	if err != nil {
		return 0, err
	}
	v, err := run.Call("decide", c)
	if err != nil {
		return 0, err
	}
	switch v {
	case starlark.None:
		return rules.NoOpinion, nil
	case starlark.String("OPEN"):
		return rules.AnswerOpen, nil
	case starlark.String("CLOSE"):
		return rules.AnswerClose, nil
	case starlark.String("ASK"):
		return rules.AnswerAsk, nil
	}
	return 0, fmt.Errorf("decide returned %s; want \"OPEN\", \"CLOSE\", \"ASK\" or None", v.String())
}

// ctxValue is decide's argument. Groups and sessions are looked up when
// the plugin first reads them, so a plugin that needs neither does not
// fail when logind does not answer.
func (p *Runner) ctxValue(ctx context.Context, l rules.Login) (starlark.Value, error) {
	fields := starlark.StringDict{
		"service":  starlark.String(l.Service),
		"user":     starlark.String(l.User),
		"rhost":    starlark.String(l.RHost),
		"ruser":    starlark.String(l.RUser),
		"tty":      starlark.String(l.TTY),
		"auth":     starlark.String(l.Auth),
		"prompt":   starlark.NewBuiltin("prompt", p.prompt),
		"info":     starlark.NewBuiltin("info", p.message(TextInfo)),
		"error":    starlark.NewBuiltin("error", p.message(ErrorMsg)),
		"rhost_in": starlark.NewBuiltin("rhost_in", rhostIn(l.RHost)),
	}
	return &pluginCtx{fields: fields, lazy: map[string]func() (starlark.Value, error){
		"groups":   func() (starlark.Value, error) { return p.groups(l.User) },
		"sessions": func() (starlark.Value, error) { return p.sessions(ctx) },
	}}, nil
}

func (p *Runner) groups(user string) (starlark.Value, error) {
	var list []starlark.Value
	if p.Groups != nil {
		names, err := p.Groups.UserGroups(user)
		if err != nil {
			return nil, fmt.Errorf("ctx.groups: %w", err)
		}
		for _, g := range names {
			list = append(list, starlark.String(g))
		}
	}
	return starlark.Tuple(list), nil
}

func (p *Runner) sessions(ctx context.Context) (starlark.Value, error) {
	var out []starlark.Value
	if p.Sessions != nil {
		list, err := p.Sessions.Sessions(ctx)
		if err != nil {
			return nil, fmt.Errorf("ctx.sessions: %w", err)
		}
		for _, s := range list {
			out = append(out, starlarkstruct.FromStringDict(starlark.String("session"), starlark.StringDict{
				"user": starlark.String(s.User), "service": starlark.String(s.Service), "rhost": starlark.String(s.RHost),
				"type": starlark.String(s.Type), "class": starlark.String(s.Class), "state": starlark.String(s.State),
			}))
		}
	}
	return starlark.Tuple(out), nil
}

// pluginCtx is the ctx a plugin's decide gets.
type pluginCtx struct {
	fields starlark.StringDict
	lazy   map[string]func() (starlark.Value, error)
}

func (c *pluginCtx) String() string        { return "ctx" }
func (c *pluginCtx) Type() string          { return "ctx" }
func (c *pluginCtx) Freeze()               {}
func (c *pluginCtx) Truth() starlark.Bool  { return true }
func (c *pluginCtx) Hash() (uint32, error) { return 0, fmt.Errorf("ctx is not hashable") }

func (c *pluginCtx) Attr(name string) (starlark.Value, error) {
	if v, ok := c.fields[name]; ok {
		return v, nil
	}
	if f, ok := c.lazy[name]; ok {
		v, err := f()
		if err != nil {
			return nil, err
		}
		c.fields[name] = v
		return v, nil
	}
	return nil, nil
}

func (c *pluginCtx) AttrNames() []string {
	names := append(c.fields.Keys(), "groups", "sessions")
	return names
}

// prompt(text, echo=False) asks the user and returns the answer, or None
// when the application gave none. The time limit pauses while the user
// types.
func (p *Runner) prompt(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var text string
	echo := false
	if err := starlark.UnpackArgs(b.Name(), args, kw, "text", &text, "echo?", &echo); err != nil {
		return nil, err
	}
	if p.Converse == nil {
		return nil, fmt.Errorf("prompt: this login has no conversation")
	}
	style := PromptEchoOff
	if echo {
		style = PromptEchoOn
	}
	var answer string
	var err error
	starhost.Pause(t, func() { answer, err = p.Converse(style, text) })
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	return starlark.String(answer), nil
}

func (p *Runner) message(style int) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var text string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &text); err != nil {
			return nil, err
		}
		if p.Converse == nil {
			return starlark.None, nil
		}
		var err error
		starhost.Pause(t, func() { _, err = p.Converse(style, text) })
		return starlark.None, err
	}
}

// rhost_in(networks) reports whether the remote host is an address in one
// of the CIDR networks (a host name never is). What counts as an address is
// rules.RemoteAddr's, as for HOST rules.
func rhostIn(rhost string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var nets *starlark.List
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &nets); err != nil {
			return nil, err
		}
		// A name is in no network: a plugin never opens for what a PTR
		// record claims. A plugin that closes by network must close a
		// name itself (README, "Remote host names").
		addr, ok := rules.RemoteAddr(rhost)
		if !ok {
			return starlark.False, nil
		}
		for i := 0; i < nets.Len(); i++ {
			s, ok := starlark.AsString(nets.Index(i))
			if !ok {
				return nil, fmt.Errorf("rhost_in: %s is not a string", nets.Index(i))
			}
			pfx, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("rhost_in: %q is not a CIDR network", s)
			}
			if pfx.Contains(addr) {
				return starlark.True, nil
			}
		}
		return starlark.False, nil
	}
}
