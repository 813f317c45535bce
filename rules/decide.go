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
	// (config refused, a broken line refusing the login, NSS or logind
	// error, plugin error).
	Err error
	// Broken is the broken config line that refused the login (Problem.
	// Locks), when one did.
	Broken *Problem
	// Trace is every step, filled by Explain only.
	Trace []Step
	// Then is, for a Token verdict, what the decision is once the token
	// is found valid: Open, Ask, Pin or PinGPG.
	Then Verdict
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

	// tokenRule is the first TOKEN rule that names the login (tokenWhy
	// says how); tokenSure: it names it surely, and so may let it in
	tokenRule *Rule
	tokenWhy  string
	tokenSure bool
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
func (v Verdict) Pending() bool { return v == Ask || v == Pin || v == PinGPG || v == Token }

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
	case Token:
		return "the password is checked as a single sign-on token"
	}
	return ""
}

// decisionOrder is docs/rules.md's "first that matches wins".
var decisionOrder = []Option{OptClose, OptPinGPG, OptPin, OptAsk, OptOpen}

type limitRef struct {
	rule  *Rule
	limit Limit
}

// pluginRef is a plugin rule to ask. unsure: it names the login only by a
// HOST entry that a name RHOST may or may not be (matchUnsure,
// matchByName), so only its answers that keep a login out count.
type pluginRef struct {
	rule   *Rule
	unsure bool
}

func (e *evaluator) decide() Decision {
	return e.withToken(e.decideRules())
}

// decideRules is the decision of every rule but TOKEN's requirement
// (withToken adds it): a TOKEN rule that names the login surely lets it
// in when no other rule decides.
func (e *evaluator) decideRules() Decision {
	l := e.login
	e.step(Pos{}, "login: service %s (rules for %s), user %s, remote host %s, authentication %s",
		l.Service, l.RuleServices(), l.describeUser(), describeHost(l.RHost), l.Auth)
	if l.PAMUser != "" {
		e.step(Pos{}, "user %s as given is %s to NSS: rules see %s, and CLOSE rules also %s",
			quote(l.PAMUser), quote(l.User), quote(l.User), quote(l.PAMUser))
	}
	if fatal, ok := e.cfg.Fatal(); ok {
		return e.fail(fmt.Errorf("config refused: %s", fatal))
	}
	if p, ok := e.cfg.Refuses(l); ok {
		// a broken line that could have kept this login out: ignoring it
		// could let in whom it was written to refuse
		err := fmt.Errorf("broken config line %s: %s; %s", p.Pos, p.Message, p.Locks.Consequence())
		e.step(p.Pos, "broken line, failing closed: %s; %s", p.Message, p.Locks.Consequence())
		return e.finish(Decision{Verdict: Close, Err: err, Reason: err.Error(), Broken: &p})
	}
	if e.host.named {
		e.step(e.cfg.Settings.HostNamesPos, "%s", e.namedHostNote())
	}

	first := map[Option]*Rule{} // the first rule of each option that matched
	why := map[Option]string{}  // and why it matched
	// stricter holds the first ASK, PIN and PINGPG rules that name a name
	// RHOST only unsurely: they may replace an OPEN, never a CLOSE.
	stricter := map[Option]*Rule{}
	stricterWhy := map[Option]string{}
	// skipped is the first rule that would have let the login in had
	// names been trusted, for the reason of a DEFAULT:CLOSE.
	var skipped *Rule
	var skippedWhy string
	var limits []limitRef
	var plugins []pluginRef
	var opaRules []pluginRef
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
		m, entry, err := e.targetMatches(r)
		if err != nil {
			return e.fail(err)
		}
		unsure := m == matchUnsure || m == matchByName
		if e.tracing {
			e.step(r.Pos, "%s: %s, %s", r.Text, applyVerb(r.Option, m), e.matchText(r, m, entry))
		}
		switch {
		case m == matchNo:
		case r.Option == OptPlugin:
			plugins = append(plugins, pluginRef{rule: r, unsure: unsure})
		case r.Option == OptOPA:
			opaRules = append(opaRules, pluginRef{rule: r, unsure: unsure})
		case r.Option == OptToken:
			// a requirement whatever the match (asking for a token is only
			// stricter); it lets the login in only when sure
			if e.tokenRule == nil {
				e.tokenRule, e.tokenWhy, e.tokenSure = r, e.matchText(r, m, entry), !unsure
			}
		case unsure && r.Option == OptOpen:
			if skipped == nil {
				skipped, skippedWhy = r, e.matchText(r, m, entry)
			}
		case unsure && r.Option != OptClose: // ASK, PIN, PINGPG
			if stricter[r.Option] == nil {
				stricter[r.Option], stricterWhy[r.Option] = r, e.matchText(r, m, entry)
			}
			if skipped == nil {
				skipped, skippedWhy = r, e.matchText(r, m, entry)
			}
		case first[r.Option] == nil:
			first[r.Option], why[r.Option] = r, e.matchText(r, m, entry)
		}
	}
	if other > 0 {
		e.step(Pos{}, "%d rule(s) are for other services", other)
	}

	if d, closed := e.numberGate(limits); closed {
		return e.finish(d)
	}

	for _, p := range plugins {
		r := p.rule
		if first[OptClose] != nil {
			e.step(r.Pos, "plugin %s not asked: a CLOSE rule already applies", r.Plugin)
			continue
		}
		opt, err := e.askPlugin(r)
		if err != nil {
			return e.fail(err)
		}
		answer := "plugin " + r.Plugin + " answered " + opt.String()
		switch {
		case opt == 0:
		case p.unsure && opt == OptOpen:
			e.step(r.Pos, "plugin %s's OPEN does not count: remote host %s is not an address, and a name opens nothing without HOST_NAMES:TRUST",
				r.Plugin, describeHost(l.RHost))
			if skipped == nil {
				skipped, skippedWhy = r, answer+", which does not count for a remote host that is not an address without HOST_NAMES:TRUST"
			}
		case p.unsure && opt == OptAsk:
			e.step(r.Pos, "plugin %s's ASK only replaces an OPEN: remote host %s is not an address", r.Plugin, describeHost(l.RHost))
			if stricter[opt] == nil {
				stricter[opt], stricterWhy[opt] = r, answer+" for a remote host that is not an address"
			}
		case first[opt] == nil:
			first[opt], why[opt] = r, answer
		}
	}

	if len(opaRules) > 0 {
		if d, failed := e.consultOPA(opaRules, first, why, stricter, stricterWhy, &skipped, &skippedWhy); failed {
			return d
		}
	}

	winner := Option(0)
	for _, opt := range decisionOrder {
		if first[opt] != nil {
			winner = opt
			break
		}
	}
	s := e.cfg.Settings
	if winner == 0 && e.tokenSure {
		// the TOKEN rule lets the login in, once the token is valid
		first[OptOpen], why[OptOpen], winner = e.tokenRule, e.tokenWhy, OptOpen
	}
	if winner == OptOpen || winner == 0 && s.Default == Open {
		// A rule that names a name RHOST only unsurely cannot let a login
		// in, but when the login is let in anyway it may make it stricter.
		replaced := fmt.Sprintf("DEFAULT:OPEN (%s)", s.DefaultPos)
		if winner == OptOpen {
			replaced = fmt.Sprintf("OPEN rule %s (%s)", first[OptOpen].Pos, why[OptOpen])
		}
		for _, opt := range decisionOrder {
			if r := stricter[opt]; r != nil {
				return e.conclude(opt, r, fmt.Sprintf("%s rule (%s), in place of %s", opt, stricterWhy[opt], replaced))
			}
		}
	}
	if winner != 0 {
		if first[winner].Option == OptOPA { // why says "OPA answered …"
			return e.conclude(winner, first[winner], fmt.Sprintf("OPA rule: %s", why[winner]))
		}
		if first[winner].Option == OptToken {
			return e.conclude(winner, first[winner], "no other rule decides, so the TOKEN rule lets the login in")
		}
		return e.conclude(winner, first[winner], fmt.Sprintf("%s rule (%s)", winner, why[winner]))
	}
	reason := fmt.Sprintf("no rule applies; DEFAULT:%s (%s)", s.Default, s.DefaultPos)
	if skipped != nil && s.Default == Close {
		reason = fmt.Sprintf("no rule lets the login in (%s: %s); DEFAULT:CLOSE (%s)", skipped.Pos, skippedWhy, s.DefaultPos)
	}
	e.step(s.DefaultPos, "decision %s: %s", s.Default, reason)
	return e.finish(Decision{Verdict: s.Default, Reason: reason})
}

// conclude turns the winning option into the decision.
func (e *evaluator) conclude(opt Option, r *Rule, reason string) Decision {
	switch opt {
	case OptPin:
		return e.decided(Pin, r, reason)
	case OptPinGPG:
		return e.decided(PinGPG, r, reason)
	case OptAsk:
		return e.decideAsk(r, reason)
	case OptOpen:
		return e.decided(Open, r, reason)
	}
	return e.decided(Close, r, reason)
}

// namedHostNote says, once per trace, what an RHOST that is not an address
// does under the HOST_NAMES setting in force.
func (e *evaluator) namedHostNote() string {
	host := describeHost(e.login.RHost)
	if e.cfg.Settings.TrustHostNames {
		return "remote host " + host + " is not an address; HOST_NAMES:TRUST: it matches name entries only, " +
			"addresses and networks never"
	}
	return "remote host " + host + " is not an address: a name the host application looked up, which whoever " +
		"controls the client's PTR record chooses; HOST_NAMES:DISTRUST (the default): it lets no login in by name, " +
		"and CLOSE rules by address or network apply to it"
}

// applyVerb says in a trace line what a rule's match does.
func applyVerb(opt Option, m matchKind) string {
	switch {
	case m == matchNo:
		return "does not apply"
	case m == matchYes || opt == OptClose:
		return "applies"
	case opt == OptOpen:
		return "does not apply"
	case opt == OptPlugin || opt == OptOPA:
		return "applies, but only to keep the login out"
	case opt == OptToken:
		return "applies as a requirement only"
	}
	return "applies only in place of an OPEN"
}

func (e *evaluator) decided(v Verdict, r *Rule, reason string) Decision {
	if v.Pending() {
		e.step(r.Pos, "decision %s: %s; %s", v, reason, v.Note())
	} else {
		e.step(r.Pos, "decision %s: %s", v, reason)
	}
	return e.finish(Decision{Verdict: v, Rule: r, Reason: reason})
}

// decideAsk applies what docs/rules.md says of ASK: only SSH logins can be
// asked about, and a user already approved from the same host is not asked
// again.
func (e *evaluator) decideAsk(r *Rule, reason string) Decision {
	if !e.login.IsSSHD() {
		return e.decided(Close, r, reason+"; ASK is only for SSH logins, for "+e.login.Service+" it means CLOSE")
	}
	if e.host.named && !e.cfg.Settings.TrustHostNames {
		e.step(r.Pos, "approved sessions not looked up: remote host %s is not an address, so it may be another host of that name",
			describeHost(e.login.RHost))
	} else if e.deps.Approvals != nil {
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

// consultOPA asks OPA once for the login, for the first OPA rule that
// names it (every OPA rule would send the same input and get the same
// answer, and the user would be prompted again), and lets the answer join
// the decision order as that option's rule would. A rule that names the
// login only by an unsure host match counts, like a plugin's, only to keep
// the login out.
func (e *evaluator) consultOPA(refs []pluginRef, first map[Option]*Rule, why map[Option]string,
	stricter map[Option]*Rule, stricterWhy map[Option]string, skipped **Rule, skippedWhy *string) (Decision, bool) {
	p := refs[0]
	r := p.rule
	if first[OptClose] != nil {
		e.step(r.Pos, "OPA not asked: a CLOSE rule already applies")
		return Decision{}, false
	}
	if e.deps.OPA == nil {
		return e.fail(fmt.Errorf("%s: OPA cannot be asked from here", r.Pos)), true
	}
	a, err := e.deps.OPA.Decide(e.ctx, r, e.login)
	if err != nil {
		return e.fail(fmt.Errorf("%s: OPA: %w", r.Pos, err)), true
	}
	for _, t := range a.Trace {
		e.step(r.Pos, "OPA: %s", t)
	}
	opt := a.Option
	switch opt {
	case OptOpen, OptClose, OptAsk, OptPin:
	default:
		return e.fail(fmt.Errorf("%s: OPA's answer became option %d, not OPEN, CLOSE, ASK or PIN", r.Pos, opt)), true
	}
	answer := "OPA answered " + opt.String() + ": " + a.Why
	e.step(r.Pos, "%s", answer)
	switch {
	case p.unsure && opt == OptOpen:
		e.step(r.Pos, "OPA's OPEN does not count: remote host %s is not an address, and a name opens nothing without HOST_NAMES:TRUST",
			describeHost(e.login.RHost))
		if *skipped == nil {
			*skipped, *skippedWhy = r, answer+", which does not count for a remote host that is not an address without HOST_NAMES:TRUST"
		}
	case p.unsure && opt != OptClose:
		e.step(r.Pos, "OPA's %s only replaces an OPEN: remote host %s is not an address", opt, describeHost(e.login.RHost))
		if stricter[opt] == nil {
			stricter[opt], stricterWhy[opt] = r, answer+" for a remote host that is not an address"
		}
	case first[opt] == nil:
		first[opt], why[opt] = r, answer
	}
	for _, o := range refs[1:] {
		e.step(o.rule.Pos, "OPA asked once per login: the answer for %s stands for this rule too", r.Pos)
	}
	return Decision{}, false
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

// targetMatches reports how the rule's TARGET names this login and the
// list entry that matched (for a HOST list, the entry that matched best).
// It builds no strings, since it runs for every rule of the service.
func (e *evaluator) targetMatches(r *Rule) (matchKind, string, error) {
	switch r.Target {
	case TargetUser:
		for _, n := range r.Names {
			if e.login.userMatches(r.Option, n) {
				return matchYes, n, nil
			}
		}
	case TargetGroup:
		for _, g := range r.Names {
			ok, err := e.inGroup(g)
			if err != nil {
				return matchNo, "", err
			}
			if ok {
				return matchYes, g, nil
			}
		}
	case TargetHost:
		best, entry := matchNo, ""
		for _, h := range r.Hosts {
			m := h.match(e.host, e.cfg.Settings.TrustHostNames)
			if m == matchYes {
				return m, h.Text, nil
			}
			if m > best {
				best, entry = m, h.Text
			}
		}
		return best, entry, nil
	}
	return matchNo, "", nil
}

// matchText says in words why a rule's TARGET did or did not match.
func (e *evaluator) matchText(r *Rule, m matchKind, entry string) string {
	user, host := e.login.describeUser(), describeHost(e.login.RHost)
	ok := m != matchNo
	switch {
	case r.Target == TargetUser && ok && entry != e.login.User:
		return "user " + user + " is listed by the name as given"
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
	case m == matchYes:
		return "remote host " + host + " matches " + entry
	case m == matchNo && e.host.named && e.cfg.Settings.TrustHostNames && hasNetwork(r):
		return "remote host " + host + " is not listed (it is not an address, and addresses and networks match addresses only)"
	case m == matchNo:
		return "remote host " + host + " is not listed"
	}
	var text string
	switch {
	case m == matchByName && r.Option == OptClose:
		return "remote host " + host + " matches " + entry + " by name (names still match CLOSE rules)"
	case m == matchByName:
		text = "remote host " + host + " is the name " + entry + ", which whoever controls the PTR record of the client's address can claim"
	case strings.Contains(entry, "/"):
		text = "remote host " + host + " is not an address, so it may be in " + entry
	default:
		text = "remote host " + host + " is not an address, so it may be " + entry
	}
	switch r.Option {
	case OptClose:
		return text + ": a CLOSE applies to it"
	case OptOpen:
		return text + "; a name opens nothing without HOST_NAMES:TRUST"
	case OptPlugin:
		return text + "; the plugin is asked, but its OPEN does not count without HOST_NAMES:TRUST"
	case OptOPA:
		return text + "; OPA is asked, but its OPEN does not count without HOST_NAMES:TRUST"
	}
	return text + "; a name opens nothing without HOST_NAMES:TRUST, so " + r.Option.String() + " may only replace an OPEN"
}

// hasNetwork reports whether a HOST rule lists an address or a network.
func hasNetwork(r *Rule) bool {
	for _, h := range r.Hosts {
		if h.IsNetwork() {
			return true
		}
	}
	return false
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
