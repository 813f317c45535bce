// Package serve is pam-accesscontrol's HTTP service (the CLI's serve verb,
// cmd.go): beesly's API (POST /auth, /renew, /verify, GET /service/health,
// /service/version, /service, /), field for field, with each login a real
// PAM transaction through a service whose stack holds our module
// (serve/pamclient) and our own tokens (serve/token). Where beesly was
// broken it is fixed on purpose:
//
//   - /auth runs the account phase too (beesly skipped pam_acct_mgmt, so
//     locked and expired accounts passed);
//   - /renew runs the account phase and the rules again, and reads the
//     groups again, so a locked user or a rule that now CLOSEs stops
//     renewal (beesly renewed forever with the old groups);
//   - groups come from NSS (getgrouplist), never from `id` (whose output
//     split "Domain Users" in two, and 500'd a user without a private group);
//   - user names of any length up to 256 bytes work (beesly's token keys
//     failed past 16 bytes);
//   - bad JSON and wrong methods answer JSON, never HTML.
//
// It never links the helper's state (pammod/...): the module in the PAM
// stack decides, as for any other host.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"runtime"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// App is the name beesly's health and version answers carry.
const App = "pam-accesscontrol"

// PAM is what the service asks of PAM (serve/pamclient.Client).
type PAM interface {
	Authenticate(ctx context.Context, r pamclient.Request) (pamclient.Result, error)
	Account(ctx context.Context, user, rhost string) (pamclient.Result, error)
}

// Groups is NSS (internal/nss.Groups): a user's group names, primary first.
type Groups interface {
	UserGroups(name string) ([]string, error)
}

// Config is what a Server needs.
type Config struct {
	PAM            PAM
	KubePAM        PAM // GET /token's PAM service (--kube-service); nil: no /token
	Groups         Groups
	Users          Users
	Tokens         *token.Issuer // nil: no tokens (beesly without JWT_MASTER_KEY)
	TrustedProxies []netip.Prefix
	Version        string
	Logf           func(format string, args ...any)
	Now            func() time.Time
	Observe        // rate limits, metrics, audit (decide.go)
	// NSSCacheTTL is how long POST /authenticate keeps a user's uid and
	// groups from NSS (usercache.go); 0 asks NSS for every TokenReview.
	NSSCacheTTL time.Duration
	// ReviewNeedsClientCert (--client-ca): POST /authenticate answers
	// only a client whose TLS certificate the client CA verified.
	ReviewNeedsClientCert bool
}

// Server answers the API.
type Server struct {
	cfg    Config
	start  time.Time
	routes []route

	nssCache *userCache // POST /authenticate's users from NSS; nil: none kept
}

type route struct {
	path, method string
	h            func(w http.ResponseWriter, r *http.Request)
}

// New returns the service's handler.
func New(cfg Config) *Server {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg = cfg.observed()
	s := &Server{cfg: cfg, start: cfg.Now(), nssCache: newUserCache(cfg.NSSCacheTTL, cfg.Now)}
	s.routes = []route{
		{"/", "GET", s.index},
		{"/auth", "POST", s.auth},
		{"/renew", "POST", s.renew},
		{"/verify", "POST", s.verify},
		{"/service", "GET", s.service},
		{"/service/health", "GET", s.health},
		{"/service/version", "GET", s.version},
		{"/token", "GET", s.kubeToken},
		{"/authenticate", "POST", s.authenticate},
		{"/heartbeat", "GET", s.heartbeat},
	}
	if cfg.Tokens != nil && cfg.Tokens.JWKS() != nil {
		s.routes = append(s.routes, route{"/.well-known/jwks.json", "GET", s.jwks})
	}
	if cfg.Tokens != nil && cfg.Tokens.Discovery() != nil {
		s.routes = append(s.routes, route{token.WellKnown, "GET", s.discovery})
	}
	return s
}

// maxBody bounds a request body: a name, a password, a token, answers.
const maxBody = 64 << 10

// ServeHTTP routes, with beesly's errors as JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w, counted := s.instrument(w, r)
	defer counted()
	w.Header().Set("Cache-Control", "no-cache")
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logf("serve: panic answering %s %s: %v", r.Method, r.URL.Path, p)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "The application failed to handle the request"})
		}
	}()
	for _, rt := range s.routes {
		if rt.path != r.URL.Path {
			continue
		}
		if r.Method != rt.method && !(rt.method == "GET" && r.Method == "HEAD") {
			w.Header().Set("Allow", rt.method)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "The method is not allowed for the requested URL"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rt.h(w, r)
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"error": "The requested endpoint does not exist"})
}

// request is every field a POST may carry; a field of the wrong type is
// bad JSON.
// The password and the answers are secrets (secret.go): bytes, zeroed by
// wipe once PAM is done.
type request struct {
	Username *string  `json:"username"`
	Password secret   `json:"password"`
	JWT      *string  `json:"jwt"`
	Answers  []secret `json:"answers"`
}

func (r *request) wipe() {
	r.Password.wipe()
	for _, a := range r.Answers {
		a.wipe()
	}
}

// decode reads the body as JSON whatever the Content-Type (as beesly's
// get_json(force=True)); false when it answered 400 already. The body's
// buffer is zeroed once decoded (secret.go).
func decode(w http.ResponseWriter, r *http.Request, into *request) bool {
	body, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(body, into)
		clear(body)
	}
	if err != nil {
		into.wipe()
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "The request body is not valid JSON"})
		return false
	}
	return true
}

// given is Python's truth of beesly's fields: absent, null and "" are
// not given.
func given(p *string) bool { return p != nil && *p != "" }

// userName is beesly's check (a letter, then letters, digits and -_.@),
// with the length NSS allows instead of 33 characters and capitals past
// the first (AD names through SSSD): it keeps out what PAM modules or logs
// could read differently (spaces, NUL, '/', ':', '\', newlines).
var userName = regexp.MustCompile(`^[a-zA-Z][-_.@a-zA-Z0-9]{1,255}$`)

// busy answers a transaction that could not run or end: 503, with
// Retry-After. True when err was one.
func busy(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, pamclient.ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "Too many authentications in progress; try again later"})
	case errors.Is(err, pamclient.ErrTimeout), errors.Is(err, pamclient.ErrGone): // nobody reads the latter's answer
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "The authentication did not finish in time"})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "The application failed to handle the request"})
	default:
		return false
	}
	return true
}

// groupsOf is the user's groups from NSS without the user's private group,
// as beesly's list was (its first entry named after the user, if any).
func (s *Server) groupsOf(user string) ([]string, error) {
	all, err := s.cfg.Groups.UserGroups(user)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(all))
	dropped := false
	for _, g := range all {
		if g == user && !dropped {
			dropped = true
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{App: "OK"})
}

func (s *Server) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"app": App, "version": s.cfg.Version})
}

func (s *Server) service(w http.ResponseWriter, _ *http.Request) {
	host, _ := os.Hostname()
	writeJSON(w, http.StatusOK, map[string]any{
		"app":    map[string]any{"name": App, "version": s.cfg.Version, "uptime": s.cfg.Now().Sub(s.start).Truncate(time.Second).String()},
		"system": map[string]any{"hostname": host, "processors": runtime.NumCPU()},
	})
}

func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	host, _ := os.Hostname()
	var routes []map[string]any
	for _, rt := range s.routes {
		methods := []string{rt.method}
		if rt.method == "GET" {
			methods = []string{"GET", "HEAD"}
		}
		routes = append(routes, map[string]any{"endpoint": rt.path, "methods": methods})
	}
	writeJSON(w, http.StatusOK, map[string]any{"hostname": host, "app": App, "version": s.cfg.Version, "routes": routes})
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(s.cfg.Tokens.JWKS())
}
