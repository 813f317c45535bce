package opa

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// Cache is the offline cache (OPA_CACHE): the last OPEN OPA gave for a
// key, so that it stands for a while when OPA gives no usable answer
// (LemonLDAP::NG's offline mode). The product keeps it in the run
// directory (pammod/loginstate); nil is no cache.
type Cache interface {
	// LastOpen returns the OPEN OPA last gave for k, if within ttl.
	LastOpen(k CacheKey, ttl time.Duration) (CachedOpen, bool)
	// SaveOpen keeps OPA's OPEN for k; noPrompts says that the display
	// cycle before it asked the user nothing.
	SaveOpen(k CacheKey, noPrompts bool) error
	// Forget drops k's OPEN: OPA answered something else, and a CLOSE
	// must never be taken back into an OPEN by the cache.
	Forget(k CacheKey) error
}

// CachedOpen is a cached OPEN: when OPA gave it, and whether the login it
// was given for was asked nothing by OPA's display cycle. Only such an
// OPEN stands in while OPA is out: one given after the user answered
// OPA's prompts (an OTP, say) would let a later login in without anyone
// checking its answers. The answers themselves are never kept.
type CachedOpen struct {
	At time.Time
	// NoPrompts: the display cycle asked nothing (or there is none). A
	// record that does not say so, such as one kept by an older version,
	// does not stand in.
	NoPrompts bool
}

// CacheKey is whose OPEN a cached record is: under the same config (its
// fingerprint covers the OPA_* settings and the policy's paths), for the
// same user, service, remote host and kind of authentication.
type CacheKey struct {
	Config, User, Service, RHost, Auth string
}

// Logger takes the lines OPA's decisions log (syslog, AUTHPRIV).
type Logger interface {
	Info(format string, args ...any)
	Error(format string, args ...any)
}

// Audit event kinds for a decision OPA did not make.
const (
	EventFallback = audit.OPAFallback // OPA_FALLBACK decided
	EventCache    = audit.OPACache    // the cached OPEN stood
)

// Decider implements rules.OPA: it runs pam_authz's three cycles for one
// login, prompting through the PAM conversation, and turns a failure into
// the cached OPEN or OPA_FALLBACK.
type Decider struct {
	Settings rules.OPASettings
	// Query reaches OPA; nil builds a Client from Settings.
	Query Querier
	// Config is the fingerprint of the config, for the cache's key.
	Config string
	// Converse shows a message or asks a prompt (internal/pamconst styles).
	// Nil: a policy that prompts fails the login closed.
	Converse func(style int, text string) (string, error)
	// Answers, when not nil, answers the prompts by key instead of the
	// user, with "" for a key it lacks, and nothing is shown (explain).
	Answers map[string]string
	// Silent: PAM_SILENT, info and error messages are not shown.
	Silent bool
	// Env reads the PAM environment (pam_getenv) for env_vars; nil: none.
	Env      func(name string) (string, bool, error)
	Groups   rules.Groups
	Sessions rules.Sessions
	Cache    Cache
	Log      Logger
	// Event records an audit event (kind, verdict, reason); nil: none.
	Event func(kind, verdict, reason string)
	// ServerGroup is SERVER_GROUP, sent in every input; "" sends
	// rules.DefaultServerGroup.
	ServerGroup string
}

// Decide implements rules.OPA.
func (d *Decider) Decide(ctx context.Context, r *rules.Rule, l rules.Login) (rules.OPAAnswer, error) {
	s := d.Settings
	switch {
	case s.URL == "":
		return rules.OPAAnswer{}, errors.New("no OPA_URL is set")
	case s.Authz == "":
		return rules.OPAAnswer{}, errors.New("no OPA_AUTHZ is set")
	}
	q := d.Query
	if q == nil {
		c, err := NewClient(s)
		if err != nil {
			return rules.OPAAnswer{}, err
		}
		q = c
	}
	in, err := d.baseInput(ctx, r, l)
	if err != nil {
		return rules.OPAAnswer{}, err
	}
	x := &exchange{d: d, q: q, in: in, login: l}
	return x.run(ctx)
}

// baseInput is the input without responses: pam_authz's sysinfo and our
// facts.
func (d *Decider) baseInput(ctx context.Context, r *rules.Rule, l rules.Login) (*Input, error) {
	in := &Input{
		DisplayResponses: map[string]string{},
		PullResponses:    PullResponses{Files: map[string]any{}, EnvVars: map[string]string{}},
		Sysinfo: Sysinfo{PamUsername: l.User, PamService: l.Service, PamReqUsername: l.RUser,
			PamReqHostname: l.RHost},
		AccessControl: Facts{Auth: l.RuleService(), Method: string(l.Auth), TTY: l.TTY,
			Groups: []string{}, Sessions: []Session{}, Rule: r.Pos.String(), PAMUser: l.PAMUser,
			ServerGroup: cmp.Or(d.ServerGroup, rules.DefaultServerGroup)},
	}
	if d.Groups == nil {
		return nil, fmt.Errorf("groups of %q: no group source", l.User)
	}
	groups, err := d.Groups.UserGroups(l.User)
	if err != nil {
		return nil, fmt.Errorf("groups of %q, for OPA's input: %w", l.User, err)
	}
	in.AccessControl.Groups = append(in.AccessControl.Groups, groups...)
	if d.Sessions != nil {
		list, err := d.Sessions.Sessions(ctx)
		if err != nil {
			// a policy may allow only a user without sessions: an
			// unknown list is null, not an empty one, and count(null)
			// makes such a rule fail in the policy
			in.AccessControl.Sessions = nil
			in.AccessControl.SessionsError = err.Error()
			list = nil
		}
		for _, se := range list {
			if se.User == l.User && se.Live() {
				in.AccessControl.Sessions = append(in.AccessControl.Sessions, Session{Service: se.Service,
					RHost: se.RHost, Type: se.Type, Class: se.Class, State: se.State})
			}
		}
	}
	return in, nil
}

// exchange is one login's conversation with OPA.
type exchange struct {
	d     *Decider
	q     Querier
	in    *Input
	login rules.Login
	trace []string
	// prompted: the user answered a prompt, so the login's own deadline
	// may have run out while they typed
	prompted bool
	// asked: OPA's display cycle asked this login for an answer (however
	// it was given), which only OPA's authz cycle can check
	asked bool
}

func (x *exchange) note(format string, args ...any) {
	x.trace = append(x.trace, x.in.Scrub(fmt.Sprintf(format, args...)))
}

func (x *exchange) run(ctx context.Context) (rules.OPAAnswer, error) {
	s := x.d.Settings
	if s.Display != "" {
		if err := x.display(ctx); err != nil {
			return x.failed(ctx, err)
		}
	}
	if s.Pull != "" {
		if err := x.pull(ctx); err != nil {
			return x.failed(ctx, err)
		}
	}
	x.note("input sent to %s: %s", s.Authz, x.in.MaskedJSON())
	res, err := x.q.Query(ctx, s.Authz, x.in)
	if err != nil {
		return x.failed(ctx, fmt.Errorf("authz %s: %w", s.Authz, err))
	}
	v, err := ParseAuthz(res)
	if err != nil {
		return x.failed(ctx, fmt.Errorf("authz %s: %w", s.Authz, err))
	}
	opt := v.Option()
	x.note("answer: allow %v, decision %q, errors %q", v.Allow, v.Decision, v.Errors)
	if len(v.Errors) > 0 && x.d.Log != nil {
		x.d.Log.Info("OPA's errors for %q (service %q): %s", x.login.User, x.login.Service,
			x.in.Scrub(strings.Join(v.Errors, "; ")))
	}
	x.remember(opt)
	why := fmt.Sprintf("allow %v", v.Allow)
	if v.Decision != "" {
		why += ", decision " + v.Decision
		if v.Decision != opt {
			why += " (allow false contradicts it: CLOSE)"
		}
	}
	return rules.OPAAnswer{Option: optionOf(opt), Why: why + " from " + s.Authz, Trace: x.trace}, nil
}

// remember keeps an OPEN for the offline cache, and forgets the cached
// OPEN when OPA said anything else.
func (x *exchange) remember(opt string) {
	d := x.d
	if d.Cache == nil || d.Settings.Cache <= 0 {
		return
	}
	k := x.key()
	var err error
	if opt == "OPEN" {
		// an OPEN given after OPA's prompts is kept too, marked so: it
		// replaces an earlier OPEN that was given without them, which
		// must not stand in now that the policy asks
		err = d.Cache.SaveOpen(k, !x.asked)
	} else {
		err = d.Cache.Forget(k)
	}
	if err != nil && d.Log != nil {
		d.Log.Error("OPA offline cache: %v", err)
	}
}

func (x *exchange) key() CacheKey {
	l := x.login
	return CacheKey{Config: x.d.Config, User: l.User, Service: l.Service, RHost: l.RHost, Auth: string(l.Auth)}
}

func optionOf(s string) rules.Option {
	switch s {
	case "OPEN":
		return rules.OptOpen
	case "ASK":
		return rules.OptAsk
	case "PIN":
		return rules.OptPin
	}
	return rules.OptClose
}

// errPerson marks a failure that is not OPA's: the user could not be
// prompted, or the login's own time ran out. It refuses the login;
// OPA_FALLBACK and the cache are for OPA's failures only, so that a user
// who lets the time run out at a prompt is not let in by OPA_FALLBACK:OPEN.
type errPerson struct{ error }

// failed decides when OPA gave no usable answer: the cached OPEN, or
// OPA_FALLBACK, with one log line and one audit event saying which.
func (x *exchange) failed(ctx context.Context, err error) (rules.OPAAnswer, error) {
	var pe errPerson
	if errors.As(err, &pe) {
		return rules.OPAAnswer{}, pe.error
	}
	if ctx.Err() != nil && x.prompted {
		// the user spent the login's time at OPA's prompts: theirs, not
		// OPA's failure, whatever OPA_FALLBACK says
		return rules.OPAAnswer{}, fmt.Errorf("the login's time ran out after OPA's prompts (%v)", err)
	}
	d := x.d
	s := d.Settings
	reason := x.in.Scrub(fmt.Sprintf("OPA gave no usable answer (%v)", err))
	x.note("%s", reason)
	if d.Cache != nil && s.Cache > 0 {
		c, ok := d.Cache.LastOpen(x.key(), s.Cache)
		switch {
		case ok && x.asked:
			// the user answered OPA's prompts just now, and nobody
			// checked the answers: an OPEN from before is no check
			reason += fmt.Sprintf("; the OPEN OPA gave at %s does not stand in: OPA's display cycle asked this login "+
				"for an answer that only OPA can check", c.At.Format(time.RFC3339))
			x.note("offline cache: not used, OPA's prompts were answered and nobody checked the answers")
		case ok && !c.NoPrompts:
			// OPA would have prompted (it did for the cached OPEN): the
			// cache does not skip the prompt
			reason += fmt.Sprintf("; the OPEN OPA gave at %s does not stand in: it was given after OPA's display "+
				"cycle asked for an answer, which this login was not asked", c.At.Format(time.RFC3339))
			x.note("offline cache: not used, the cached OPEN was given after OPA's prompts")
		case ok:
			at := c.At
			why := fmt.Sprintf("%s; the OPEN OPA gave at %s stands (OPA_CACHE:%d)", reason,
				at.Format(time.RFC3339), int(s.Cache/time.Second))
			if d.Log != nil {
				d.Log.Info("OPA for %q (service %q): %s", x.login.User, x.login.Service, why)
			}
			if d.Event != nil {
				d.Event(EventCache, "OPEN", why)
			}
			x.note("offline cache: %s", why)
			return rules.OPAAnswer{Option: rules.OptOpen, Why: why, Trace: x.trace}, nil
		default:
			x.note("offline cache: no OPEN from OPA for this user, service and remote host within %v", s.Cache)
		}
	}
	why := fmt.Sprintf("%s; OPA_FALLBACK:%s", reason, s.Fallback)
	if d.Log != nil {
		d.Log.Error("OPA for %q (service %q): %s", x.login.User, x.login.Service, why)
	}
	if d.Event != nil {
		d.Event(EventFallback, s.Fallback.String(), why)
	}
	opt := rules.OptClose
	if s.Fallback == rules.Open {
		opt = rules.OptOpen
	}
	return rules.OPAAnswer{Option: opt, Why: why, Trace: x.trace}, nil
}

// display runs the display cycle: OPA's messages shown and its prompts
// asked, in order, the answers kept under their keys.
func (x *exchange) display(ctx context.Context) error {
	path := x.d.Settings.Display
	res, err := x.q.Query(ctx, path, x.in)
	if errors.Is(err, ErrUndefined) {
		x.note("display %s: undefined, nothing to show", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("display %s: %w", path, err)
	}
	msgs, err := ParseDisplay(res)
	if err != nil {
		return fmt.Errorf("display %s: %w", path, err)
	}
	var shown []string
	for _, m := range msgs {
		switch m.Style {
		case StyleInfo, StyleError:
			shown = append(shown, fmt.Sprintf("%s %q", m.Style, m.Message))
			if x.d.Silent || x.d.Converse == nil || x.d.Answers != nil {
				continue
			}
			style := pamconst.TextInfo
			if m.Style == StyleError {
				style = pamconst.ErrorMsg
			}
			x.d.Converse(style, m.Message) // a message that cannot be shown is not a reason to refuse
		case StylePromptEchoOn, StylePromptEchoOff:
			x.asked = true
			if x.d.Answers != nil {
				x.in.setResponse(m.Key, x.d.Answers[m.Key], m.Style == StylePromptEchoOff)
				shown = append(shown, fmt.Sprintf("%s %q → %s (answered by --opa-answer)", m.Style, m.Message, m.Key))
				continue
			}
			if x.d.Converse == nil {
				return errPerson{fmt.Errorf("OPA's display %s prompts %q, and this login has no conversation", path, m.Message)}
			}
			style, secret := pamconst.PromptEchoOn, m.Style == StylePromptEchoOff
			if secret {
				style = pamconst.PromptEchoOff
			}
			answer, err := x.d.Converse(style, m.Message)
			if err != nil {
				return errPerson{fmt.Errorf("OPA's prompt %q could not be asked: %v", m.Message, err)}
			}
			if len(answer) > maxMessageLen {
				answer = answer[:maxMessageLen]
			}
			x.in.setResponse(m.Key, answer, secret)
			x.prompted = true
			shown = append(shown, fmt.Sprintf("%s %q → %s", m.Style, m.Message, m.Key))
		}
	}
	x.note("display %s: %d message(s)%s", path, len(msgs), list(shown))
	return nil
}

// pull runs the pull cycle: the files OPA_PULL_FILES allows, and the PAM
// environment's variables. What is refused is left out and logged.
func (x *exchange) pull(ctx context.Context) error {
	path := x.d.Settings.Pull
	// the answers are the authz cycle's: the pull cycle, like the
	// display cycle, sees only who is logging in
	base := *x.in
	base.DisplayResponses = map[string]string{}
	res, err := x.q.Query(ctx, path, &base)
	if errors.Is(err, ErrUndefined) {
		x.note("pull %s: undefined, nothing to pull", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("pull %s: %w", path, err)
	}
	spec, err := ParsePull(res)
	if err != nil {
		return fmt.Errorf("pull %s: %w", path, err)
	}
	var got []string
	for _, f := range spec.Files {
		v, err := PullFile(f, x.d.Settings.PullFiles)
		if err != nil {
			if x.d.Log != nil {
				x.d.Log.Error("OPA asked to pull %s for %q: %v; left out", clip(fmt.Sprintf("%q", f), 200), x.login.User, err)
			}
			got = append(got, fmt.Sprintf("file %q left out: %v", f, err))
			continue
		}
		x.in.PullResponses.Files[f] = v
		got = append(got, fmt.Sprintf("file %q read", f))
	}
	for _, name := range spec.EnvVars {
		if x.d.Env == nil {
			got = append(got, fmt.Sprintf("env %s: no PAM environment here", name))
			continue
		}
		v, ok, err := x.d.Env(name)
		if err != nil || !ok {
			got = append(got, fmt.Sprintf("env %s unset", name))
			continue
		}
		x.in.PullResponses.EnvVars[name] = v
		got = append(got, fmt.Sprintf("env %s read", name))
	}
	x.note("pull %s%s", path, list(got))
	return nil
}

func list(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return ": " + strings.Join(items, "; ")
}
