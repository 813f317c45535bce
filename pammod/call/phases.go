package call

import "time"

// Phases receives how long each phase of a call took, for `make bench`
// (the daemon's --phase-log), so a slow call shows where it is slow:
//
//	items   the user, the run directory, the login, an earlier decision
//	decide  the config and the rules (a prompt, an ASK, a PIN included)
//	log     the syslog line, the monthly log, the audit event
//	record  the decision kept for the login's later phases
//
// nil when nobody asks. It measures by the wall clock, whatever Deps.Now
// says.
type Phases func(phase string, took time.Duration)

// mark ends a phase: the time since the last mark is the phase's.
func (c *call) mark(phase string) {
	if c.Phases == nil {
		return
	}
	now := time.Now()
	c.Phases(phase, now.Sub(c.marked))
	c.marked = now
}
