package serve

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
)

// Metrics are the service's Prometheus metrics, in a registry of their own
// (never the global one: two Servers in one process, as in tests, keep
// apart), and optionally the same events to statsd under beesly's names.
// No label holds a user name or an address: their number is bounded by
// the routes, the status codes and the outcomes.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	decisions   *prometheus.CounterVec
	pamSeconds  *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	auditLost   prometheus.Counter
	statsd      *Statsd
}

// NewMetrics returns the metrics; statsd may be nil.
func NewMetrics(statsd *Statsd) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pamac_serve_requests_total",
			Help: "HTTP requests by endpoint (other for unknown paths) and status code."}, []string{"endpoint", "code"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pamac_serve_decisions_total",
			Help: "Decisions of /auth, /renew, /token and /authenticate by outcome: ok, refused, error, rate_limited, challenge."},
			[]string{"endpoint", "outcome"}),
		pamSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pamac_serve_pam_seconds",
			Help:    "Time of each PAM transaction by PAM service and call (authenticate: authenticate and account; account: account alone).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"service", "call"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pamac_serve_rate_limited_total",
			Help: "Requests refused with 429 by endpoint and the budget that was spent (user or address)."}, []string{"endpoint", "key"}),
		auditLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "pamac_serve_audit_dropped_total",
			Help: "Audit events dropped because the audit queue was full."}),
		statsd: statsd,
	}
	m.reg.MustRegister(m.requests, m.decisions, m.pamSeconds, m.rateLimited, m.auditLost,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry (GET /metrics on --metrics-listen).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	return mux
}

// decision counts d, and sends beesly's counters to statsd: auth_success
// and auth_failed for /auth and /token, jwt_generated when a token was
// issued, jwt_renewed, and ours, rate_limited.
func (m *Metrics) decision(d decision) {
	m.decisions.WithLabelValues(d.endpoint, d.outcome).Inc()
	st := m.statsd
	if st == nil {
		return
	}
	switch {
	case d.outcome == outcomeRateLimited:
		st.Count("rate_limited")
	case d.endpoint == "/auth" || d.endpoint == "/token":
		switch d.outcome {
		case outcomeOK:
			st.Count("auth_success")
		case outcomeRefused:
			st.Count("auth_failed")
		}
	case d.endpoint == "/renew" && d.outcome == outcomeOK:
		st.Count("jwt_renewed")
	}
	if d.token {
		st.Count("jwt_generated")
	}
}

// verified counts a token /verify found good (beesly's jwt_verified).
func (m *Metrics) verified() {
	if m != nil && m.statsd != nil {
		m.statsd.Count("jwt_verified")
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts the request by endpoint and status once done() runs.
func (s *Server) instrument(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	m := s.cfg.Metrics
	if m == nil {
		return w, func() {}
	}
	sw := &statusWriter{ResponseWriter: w}
	return sw, func() {
		endpoint := "other"
		for _, rt := range s.routes {
			if rt.path == r.URL.Path {
				endpoint = rt.path
				break
			}
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		m.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
	}
}

// timedPAM times each transaction of a PAM service into the histogram,
// and /auth's into statsd's pam_auth as beesly did.
type timedPAM struct {
	PAM
	service string
	m       *Metrics
}

func (t timedPAM) Authenticate(ctx context.Context, r pamclient.Request) (pamclient.Result, error) {
	start := time.Now()
	res, err := t.PAM.Authenticate(ctx, r)
	d := time.Since(start)
	t.m.pamSeconds.WithLabelValues(t.service, "authenticate").Observe(d.Seconds())
	if t.m.statsd != nil {
		t.m.statsd.Timing("pam_auth", d)
	}
	return res, err
}

func (t timedPAM) Account(ctx context.Context, user, rhost string) (pamclient.Result, error) {
	start := time.Now()
	res, err := t.PAM.Account(ctx, user, rhost)
	t.m.pamSeconds.WithLabelValues(t.service, "account").Observe(time.Since(start).Seconds())
	return res, err
}

// observed is cfg with its PAM services timed, when there are metrics.
func (cfg Config) observed() Config {
	if cfg.Metrics == nil {
		return cfg
	}
	if cfg.PAM != nil {
		cfg.PAM = timedPAM{PAM: cfg.PAM, service: cfg.WebService, m: cfg.Metrics}
	}
	if cfg.KubePAM != nil {
		cfg.KubePAM = timedPAM{PAM: cfg.KubePAM, service: cfg.KubeService, m: cfg.Metrics}
	}
	return cfg
}
