package rules

import (
	"context"
	"fmt"
	"strings"
)

// Decision is the outcome of one login, with why.
type Decision struct {
	Verdict Verdict
	// Rule is the rule that decided; nil when DEFAULT decided or an error
	// did.
	Rule *Rule
	// Reason says why in one line, for the log.
	Reason string
	// Err is set when the decision is CLOSE because something failed
	// (config refused, NSS or logind error, plugin error).
	Err error
	// Trace is every step, filled by Explain only.
	Trace []Step
}

// Step is one line of an explain trace.
type Step struct {
	Pos  Pos // zero when the step is about no particular line
	Text string
}

// Source names what decided: a rule's file:line, the DEFAULT line, or the
// built-in default.
func (d Decision) Source() string {
	switch {
	case d.Rule != nil:
		return d.Rule.Pos.String()
	case d.Err != nil:
		return "error"
	}
	return "DEFAULT"
}

// Decide decides a login. It never fails: an error of any kind is a CLOSE
// decision with Err set.
func Decide(ctx context.Context, cfg *Config, login Login, deps Deps) Decision {
	e := newEvaluator(ctx, cfg, login, deps, false)
	return e.decide()
}

// Explain decides like Decide and records every step in Decision.Trace.
func Explain(ctx context.Context, cfg *Config, login Login, deps Deps) Decision {
	e := newEvaluator(ctx, cfg, login, deps, true)
	return e.decide()
}

// RecheckNumber runs the NUMBER gate alone: after the desktop owner allowed
// an ASK login, the limits may have filled while they were deciding.
func RecheckNumber(ctx context.Context, cfg *Config, login Login, deps Deps) Decision {
	e := newEvaluator(ctx, cfg, login, deps, false)
	if d, closed := e.numberGate(numberLimits(cfg, login)); closed {
		return d
	}
	return Decision{Verdict: Open, Reason: "NUMBER limits still have room"}
}

type evaluator struct {
	ctx     context.Context
	cfg     *Config
	login   Login
	deps    Deps
	host    remoteHost
	tracing bool
	trace   []Step

	groups     map[string]bool            // the login user's groups, once resolved
	userGroups map[string]map[string]bool // other users' groups, for NUMBER
}

func newEvaluator(ctx context.Context, cfg *Config, login Login, deps Deps, tracing bool) *evaluator {
	return &evaluator{ctx: ctx, cfg: cfg, login: login, deps: deps, host: parseRemoteHost(login.RHost), tracing: tracing}
}

// step records a trace line. Its arguments are boxed even when not tracing,
// so calls inside per-rule loops check e.tracing first.
func (e *evaluator) step(pos Pos, format string, args ...any) {
	if e.tracing {
		e.trace = append(e.trace, Step{Pos: pos, Text: fmt.Sprintf(format, args...)})
	}
}

func (e *evaluator) finish(d Decision) Decision {
	d.Trace = e.trace
	return d
}

func (e *evaluator) fail(err error) Decision {
	e.step(Pos{}, "error, failing closed: %v", err)
	return e.finish(Decision{Verdict: Close, Err: err, Reason: err.Error()})
}

// Pending reports whether a person completes the verdict at login time
// (the desktop owner for ASK, the user with a mailed PIN for PIN and
// PINGPG): the PAM helper asks them and turns it into OPEN or CLOSE.
func (v Verdict) Pending() bool { return v == Ask || v == Pin || v == PinGPG }

// Note says who completes a pending verdict, for an explain trace: the
// Reason of a decision names only the rule, and the helper adds what the
// person answered.
func (v Verdict) Note() string {
	switch v {
	case Ask:
		return "the desktop owner is asked"
	case Pin:
		return "a one-time PIN is mailed"
	case PinGPG:
		return "a one-time PIN is mailed, encrypted"
	}
	return ""
}

// decisionOrder is rules.md's "first that matches wins".
var decisionOrder = []Option{OptClose, OptPinGPG, OptPin, OptAsk, OptOpen}

type limitRef struct {
	rule  *Rule
	limit Limit
}

func (e *evaluator) decide() Decision {
	l := e.login
	e.step(Pos{}, "login: service %s (rules for %s), user %q, remote host %s, authentication %s",
		l.Service, l.RuleServices(), l.User, describeHost(l.RHost), l.Auth)
	if fatal, ok := e.cfg.Fatal(); ok {
		return e.fail(fmt.Errorf("config refused: %s", fatal))
	}

	first := map[Option]*Rule{} // the first rule of each option that matched
	why := map[Option]string{}  // and why it matched
	var limits []limitRef
	var plugins []*Rule
	other := 0
	for _, r := range e.cfg.Rules {
		if !r.Service.Matches(l) {
			other++
			continue
		}
		if r.Option == OptNumber {
			for _, lim := range r.Limits {
				limits = append(limits, limitRef{rule: r, limit: lim})
			}
			if e.tracing {
				e.step(r.Pos, "%s: a NUMBER limit, checked below", r.Text)
			}
			continue
		}
		ok, entry, err := e.targetMatches(r)
		if err != nil {
			return e.fail(err)
		}
		if e.tracing {
			verb := "applies"
			if !ok {
				verb = "does not apply"
			}
			e.step(r.Pos, "%s: %s, %s", r.Text, verb, e.matchText(r, ok, entry))
		}
		switch {
		case !ok:
		case r.Option == OptPlugin:
			plugins = append(plugins, r)
		case first[r.Option] == nil:
			first[r.Option], why[r.Option] = r, e.matchText(r, ok, entry)
		}
	}
	if other > 0 {
		e.step(Pos{}, "%d rule(s) are for other services", other)
	}

	if d, closed := e.numberGate(limits); closed {
		return e.finish(d)
	}

	for _, r := range plugins {
		if first[OptClose] != nil {
			e.step(r.Pos, "plugin %s not asked: a CLOSE rule already applies", r.Plugin)
			continue
		}
		opt, err := e.askPlugin(r)
		if err != nil {
			return e.fail(err)
		}
		if opt != 0 && first[opt] == nil {
			first[opt], why[opt] = r, "plugin "+r.Plugin+" answered "+opt.String()
		}
	}

	for _, opt := range decisionOrder {
		r := first[opt]
		if r == nil {
			continue
		}
		reason := fmt.Sprintf("%s rule (%s)", opt, why[opt])
		switch opt {
		case OptClose:
			return e.decided(Close, r, reason)
		case OptPin:
			return e.decided(Pin, r, reason)
		case OptPinGPG:
			return e.decided(PinGPG, r, reason)
		case OptAsk:
			return e.decideAsk(r, reason)
		case OptOpen:
			return e.decided(Open, r, reason)
		}
	}
	s := e.cfg.Settings
	reason := fmt.Sprintf("no rule applies; DEFAULT:%s (%s)", s.Default, s.DefaultPos)
	e.step(s.DefaultPos, "decision %s: %s", s.Default, reason)
	return e.finish(Decision{Verdict: s.Default, Reason: reason})
}

func (e *evaluator) decided(v Verdict, r *Rule, reason string) Decision {
	if v.Pending() {
		e.step(r.Pos, "decision %s: %s; %s", v, reason, v.Note())
	} else {
		e.step(r.Pos, "decision %s: %s", v, reason)
	}
	return e.finish(Decision{Verdict: v, Rule: r, Reason: reason})
}

// decideAsk applies what rules.md says of ASK: only SSH logins can be
// asked about, and a user already approved from the same host is not asked
// again.
func (e *evaluator) decideAsk(r *Rule, reason string) Decision {
	if !e.login.IsSSHD() {
		return e.decided(Close, r, reason+"; ASK is only for SSH logins, for "+e.login.Service+" it means CLOSE")
	}
	if e.deps.Approvals != nil {
		ok, err := e.deps.Approvals.Approved(e.ctx, e.login.User, e.login.RHost)
		if err != nil {
			return e.fail(fmt.Errorf("approved sessions of %q: %w", e.login.User, err))
		}
		if ok {
			return e.decided(Open, r, reason+"; already approved: a live session from "+describeHost(e.login.RHost))
		}
	}
	return e.decided(Ask, r, reason)
}

func (e *evaluator) askPlugin(r *Rule) (Option, error) {
	if e.deps.Plugins == nil {
		return 0, fmt.Errorf("%s: plugin %s cannot run here", r.Pos, r.Plugin)
	}
	a, err := e.deps.Plugins.Decide(e.ctx, r, e.login)
	if err != nil {
		return 0, fmt.Errorf("%s: plugin %s: %w", r.Pos, r.Plugin, err)
	}
	e.step(r.Pos, "plugin %s answered %s", r.Plugin, a)
	switch a {
	case AnswerOpen:
		return OptOpen, nil
	case AnswerClose:
		return OptClose, nil
	case AnswerAsk:
		return OptAsk, nil
	}
	return 0, nil
}

// targetMatches reports whether the rule's TARGET names this login and,
// when it does, the list entry that matched. It builds no strings, since it
// runs for every rule of the service.
func (e *evaluator) targetMatches(r *Rule) (bool, string, error) {
	switch r.Target {
	case TargetUser:
		for _, n := range r.Names {
			if n == e.login.User {
				return true, n, nil
			}
		}
	case TargetGroup:
		for _, g := range r.Names {
			ok, err := e.inGroup(g)
			if err != nil {
				return false, "", err
			}
			if ok {
				return true, g, nil
			}
		}
	case TargetHost:
		for _, h := range r.Hosts {
			if h.matches(e.host) {
				return true, h.Text, nil
			}
		}
	}
	return false, "", nil
}

// matchText says in words why a rule's TARGET did or did not match.
func (e *evaluator) matchText(r *Rule, ok bool, entry string) string {
	user, host := quote(e.login.User), describeHost(e.login.RHost)
	switch {
	case r.Target == TargetUser && ok:
		return "user " + user + " is listed"
	case r.Target == TargetUser:
		return "user " + user + " is not listed"
	case r.Target == TargetGroup && ok && entry == AllGroups:
		return "GROUP ALL is every user"
	case r.Target == TargetGroup && ok:
		return user + " is in group " + quote(entry)
	case r.Target == TargetGroup:
		return user + " is in none of these groups"
	case ok:
		return "remote host " + host + " matches " + entry
	}
	return "remote host " + host + " is not listed"
}

func (e *evaluator) inGroup(group string) (bool, error) {
	if group == AllGroups {
		return true, nil
	}
	if e.groups == nil {
		g, err := e.groupsOf(e.login.User)
		if err != nil {
			return false, err
		}
		e.groups = g
	}
	return e.groups[group], nil
}

func (e *evaluator) groupsOf(user string) (map[string]bool, error) {
	if e.deps.Groups == nil {
		return nil, fmt.Errorf("groups of %q: no group source", user)
	}
	names, err := e.deps.Groups.UserGroups(user)
	if err != nil {
		return nil, fmt.Errorf("groups of %q: %w", user, err)
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set, nil
}

func describeHost(rhost string) string {
	if rhost == "" {
		return "LOCAL (none)"
	}
	return quote(rhost)
}

// quote shows a user-supplied string safely: control characters escaped.
func quote(s string) string {
	return fmt.Sprintf("%q", s)
}

// joinQuoted lists names for the trace.
func joinQuoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
