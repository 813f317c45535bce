package rules

import (
	"fmt"
	"slices"
)

// NumberApplies reports whether a NUMBER rule governs the login's service:
// then a login let in must be counted until logind lists its session, and
// counted again, under a lock, after a person let it in (RecheckNumber).
func NumberApplies(cfg *Config, login Login) bool {
	return len(numberLimits(cfg, login)) > 0
}

// numberLimits are the NUMBER entries of rules for the login's service.
func numberLimits(cfg *Config, login Login) []limitRef {
	var limits []limitRef
	for _, r := range cfg.Rules {
		if r.Option == OptNumber && r.Service.Matches(login) {
			for _, l := range r.Limits {
				limits = append(limits, limitRef{rule: r, limit: l})
			}
		}
	}
	return limits
}

// numberGate is step 1 of docs/rules.md: the NUMBER entries whose group holds
// the user apply; when at least one applies and every one that applies is
// over its limit, the login is closed. It counts distinct users with a live
// session, the new user included once, so NUMBER limits users, not
// sessions. It reports closed=true with the decision to return.
func (e *evaluator) numberGate(limits []limitRef) (Decision, bool) {
	if len(limits) == 0 {
		return Decision{}, false
	}
	var applicable []limitRef
	for _, lr := range limits {
		ok, err := e.inGroup(lr.limit.Group)
		if err != nil {
			return e.fail(err), true
		}
		if !ok {
			if e.tracing {
				e.step(lr.rule.Pos, "NUMBER %s:%d: does not apply, %s is not in group %s",
					lr.limit.Group, lr.limit.Max, quote(e.login.User), quote(lr.limit.Group))
			}
			continue
		}
		applicable = append(applicable, lr)
	}
	if len(applicable) == 0 {
		e.step(Pos{}, "NUMBER: no limit applies to %s", quote(e.login.User))
		return Decision{}, false
	}

	users, err := e.liveUsers()
	if err != nil {
		return e.fail(err), true
	}
	var full *limitRef
	room := false
	for i, lr := range applicable {
		counted, err := e.countMembers(users, lr.limit.Group)
		if err != nil {
			return e.fail(err), true
		}
		state := "has room"
		if len(counted) > lr.limit.Max {
			state = "full"
			if full == nil {
				full = &applicable[i]
			}
		} else {
			room = true
		}
		if !e.tracing {
			if room {
				break // one limit with room is enough
			}
			continue
		}
		e.step(lr.rule.Pos, "NUMBER %s:%d: %s, %d user(s) with %s counted: %s",
			lr.limit.Group, lr.limit.Max, state, len(counted), quote(e.login.User), joinQuoted(counted))
	}
	if room {
		e.step(Pos{}, "NUMBER: at least one limit that applies has room, so NUMBER does not close")
		return Decision{}, false
	}
	counted, _ := e.countMembers(users, full.limit.Group) // resolved above: cannot fail now
	reason := fmt.Sprintf("NUMBER limit reached: group %s allows %d user(s), %d with this login (%s)",
		quote(full.limit.Group), full.limit.Max, len(counted), joinQuoted(counted))
	e.step(full.rule.Pos, "decision CLOSE: %s", reason)
	return e.finish(Decision{Verdict: Close, Rule: full.rule, Reason: reason}), true
}

// liveUsers returns the distinct users with a live session, sorted.
func (e *evaluator) liveUsers() ([]string, error) {
	if e.deps.Sessions == nil {
		e.step(Pos{}, "NUMBER: no session source, counting no sessions")
		return nil, nil
	}
	sessions, err := e.deps.Sessions.Sessions(e.ctx)
	if err != nil {
		return nil, fmt.Errorf("listing sessions for NUMBER: %w", err)
	}
	seen := map[string]bool{}
	var users []string
	for _, s := range sessions {
		if s.Live() && !seen[s.User] {
			seen[s.User] = true
			users = append(users, s.User)
		}
	}
	slices.Sort(users)
	return users, nil
}

// countMembers returns the users of group among the logged-in users and
// the new login's user, each once.
func (e *evaluator) countMembers(users []string, group string) ([]string, error) {
	counted := []string{e.login.User}
	for _, u := range users {
		if u == e.login.User {
			continue
		}
		ok, err := e.userInGroup(u, group)
		if err != nil {
			return nil, err
		}
		if ok {
			counted = append(counted, u)
		}
	}
	return counted, nil
}

// userInGroup resolves another user's groups, once per user.
func (e *evaluator) userInGroup(user, group string) (bool, error) {
	if group == AllGroups {
		return true, nil
	}
	if e.userGroups == nil {
		e.userGroups = map[string]map[string]bool{}
	}
	g, ok := e.userGroups[user]
	if !ok {
		var err error
		if g, err = e.groupsOf(user); err != nil {
			return false, err
		}
		e.userGroups[user] = g
	}
	return g[group], nil
}
