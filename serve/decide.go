package serve

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
)

// Observe is what watches and bounds the credential endpoints: the rate
// limits, the metrics (Prometheus and statsd) and the audit trail. Each is
// optional; a zero Observe limits nothing and records nothing.
type Observe struct {
	Limits  *Limiter
	Metrics *Metrics
	Audit   *Auditor
	// the PAM services' names, for the metrics and the audit events
	WebService, KubeService string
}

// Outcomes of a decision (the metrics' outcome label, the audit event's
// verdict).
const (
	outcomeOK          = "ok"
	outcomeRefused     = "refused"
	outcomeError       = "error"
	outcomeRateLimited = "rate_limited"
	outcomeChallenge   = "challenge"
)

// decision is one answer of /auth, /renew, /token or /authenticate: who
// asked, from where, through which PAM service, and what came of it.
// Never a password, a token or an answer.
type decision struct {
	endpoint string // "/auth"
	service  string // the PAM service ("" for /authenticate, which runs none)
	user     string
	rhost    string
	outcome  string
	reason   string
	token    bool // a token was issued
}

// decided records d: its metrics and statsd counters, its audit event,
// and what it means for the budgets (a refusal counts against the user
// and the address, a success clears the user's failures).
func (s *Server) decided(ctx context.Context, d decision) {
	if m := s.cfg.Metrics; m != nil {
		m.decision(d)
	}
	if a := s.cfg.Audit; a != nil {
		a.Emit(audit.Event{Kind: audit.ServeDecision, Phase: d.endpoint, Service: d.service, User: d.user,
			RHost: d.rhost, Verdict: d.outcome, Reason: d.reason})
	}
	l := s.cfg.Limits
	if l == nil || d.endpoint == "/authenticate" {
		return
	}
	switch d.outcome {
	case outcomeRefused:
		if err := l.store.Fail(ctx, l.keys(d.user, d.rhost)); err != nil {
			l.storeDown(err)
		}
	case outcomeOK:
		if err := l.store.Clear(ctx, l.keys(d.user, "")); err != nil {
			l.storeDown(err)
		}
	}
}

// Limiter puts the budgets of Store in front of the credential endpoints.
type Limiter struct {
	store Store
	logf  func(format string, args ...any)

	mu       sync.Mutex
	lastLog  time.Time
	unlogged int
}

// NewLimiter returns the limits kept in store; logf hears of a store that
// does not answer.
func NewLimiter(store Store, logf func(string, ...any)) *Limiter {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Limiter{store: store, logf: logf}
}

// keys are the budgets of a request: the user's and the address's ("" is
// left out).
func (l *Limiter) keys(user, rhost string) []string {
	var k []string
	if user != "" {
		k = append(k, limitKey(keyUser, user))
	}
	if rhost != "" {
		k = append(k, limitKey(keyAddr, rhost))
	}
	return k
}

// storeDown logs that the store failed: one line, then at most one a
// minute with how many went unsaid, so a Redis outage under load is not a
// flood.
func (l *Limiter) storeDown(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.lastLog) < time.Minute {
		l.unlogged++
		return
	}
	more := ""
	if l.unlogged > 0 {
		more = fmt.Sprintf(" (and %d more since the last line)", l.unlogged)
	}
	l.logf("serve: rate limits: %v; credential requests are refused with 503 until it answers%s", err, more)
	l.lastLog, l.unlogged = time.Now(), 0
}

// limited spends the request's budgets before PAM sees it. True when it
// answered already: 429 with Retry-After when a budget is spent or a key
// is blocked, 503 when the store does not answer (fail closed: no budget,
// no PAM). Either is a decision of its own.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, endpoint, service, user, rhost string) bool {
	l := s.cfg.Limits
	if l == nil {
		return false
	}
	wait, key, err := l.store.Take(r.Context(), l.keys(user, rhost))
	if err != nil {
		l.storeDown(err)
		s.decided(r.Context(), decision{endpoint: endpoint, service: service, user: user, rhost: rhost,
			outcome: outcomeError, reason: "rate limit store unavailable"})
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "The rate limit store is unavailable; try again later"})
		return true
	}
	if key == "" {
		return false
	}
	which := "user"
	if key != limitKey(keyUser, user) {
		which = "address"
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	if m := s.cfg.Metrics; m != nil {
		m.rateLimited.WithLabelValues(endpoint, which).Inc()
	}
	s.decided(r.Context(), decision{endpoint: endpoint, service: service, user: user, rhost: rhost,
		outcome: outcomeRateLimited, reason: "too many requests or failures for this " + which})
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": fmt.Sprintf("Rate limit exceeded: too many requests or failures for this %s; retry in %d seconds", which, secs)})
	return true
}

// failed ends a request serve could not finish (PAM busy or late, NSS,
// signing): one log line, an error decision in the audit trail, and
// busy's answer (503 with Retry-After, or 500).
func (s *Server) failed(w http.ResponseWriter, r *http.Request, d decision, verb string, err error) {
	s.cfg.Logf("serve: %s %q from %s: %v", verb, d.user, d.rhost, err)
	d.outcome, d.reason = outcomeError, err.Error()
	s.decided(r.Context(), d)
	busy(w, err)
}
