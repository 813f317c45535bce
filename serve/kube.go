package serve

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	json "github.com/segmentio/encoding/json" // writejson.go says why

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
)

// pam_hook's API (bjhaid/pam_hook), for kubectl users and Kubernetes'
// webhook token authenticator: GET /token hands out a token for Basic
// credentials after a PAM login through the Kubernetes service
// (--kube-service), POST /authenticate answers kube-apiserver's
// TokenReview, GET /heartbeat says the service is up. Where pam_hook was
// broken it is fixed on purpose:
//
//   - no credentials answer 401 with WWW-Authenticate (pam_hook: 404);
//   - token-expires-in of 0 or less is refused (pam_hook issued tokens
//     that were already expired);
//   - the token's iss and aud are checked, and spec.audiences too;
//   - the answer carries the request's apiVersion (pam_hook answered
//     v1beta1 always, so kube-apiserver's v1 webhooks refused everyone);
//   - bad input answers 400 with JSON (pam_hook panicked on JSON without
//     spec and answered 200 "invalid request" to non-JSON).
//
// A refusal by PAM stays 403, as in pam_hook.

// Users is NSS (getpwnam_r): a user's entry, its name as NSS spells it
// and its decimal uid; found is false when NSS has no such user.
type Users interface {
	Lookup(name string) (a Account, found bool, err error)
}

// Account is a user's NSS entry, as much of it as a token needs.
type Account struct {
	Name string // pw_name: a case-insensitive directory's own spelling
	UID  string
}

// kubeToken is GET /token.
func (s *Server) kubeToken(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tokens == nil || s.cfg.KubePAM == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]any{"error": "Kubernetes tokens are not enabled"})
		return
	}
	ttl := s.cfg.Tokens.TTL()
	if v, ok := r.URL.Query()["token-expires-in"]; ok {
		n, err := strconv.Atoi(v[0])
		switch {
		case err != nil || len(v) > 1:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("token-expires-in %q is not one integer number of minutes", v[0])})
			return
		case n <= 0:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "token-expires-in must be at least 1 minute"})
			return
		case int64(n) > math.MaxInt64/int64(time.Minute) || time.Duration(n)*time.Minute > ttl:
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("token-expires-in %d is greater than the configured token lifetime (%v)", n, ttl)})
			return
		}
		ttl = time.Duration(n) * time.Minute
	}
	creds, ok := basicAuth(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+App+`", charset="UTF-8"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Supply username and password (HTTP Basic authentication)"})
		return
	}
	defer creds.wipe()
	user := creds.user
	if !userName.MatchString(user) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid username provided"})
		return
	}
	rhost := clientAddr(r, s.cfg.TrustedProxies)
	d := decision{endpoint: "/token", service: s.cfg.KubeService, user: s.limitName(user), rhost: rhost}
	if s.limited(w, r, d.endpoint, d.service, d.user, rhost) {
		return
	}
	res, err := s.cfg.KubePAM.Authenticate(r.Context(), pamclient.Request{User: user, RHost: rhost, Password: creds.password})
	if err != nil {
		s.failed(w, r, d, "token", err)
		return
	}
	switch res.Outcome {
	case pamclient.Success:
	case pamclient.Challenge:
		// Basic auth has no room for answers: a stack that asks more than
		// the password cannot hand out tokens here
		s.cfg.Logf("serve: token %q from %s: challenge (%d prompts)", user, rhost, len(res.Prompts))
		d.outcome, d.reason = outcomeChallenge, fmt.Sprintf("%d prompts", len(res.Prompts))
		s.decided(r.Context(), d)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Additional authentication required",
			"challenge": res.Prompts, "messages": messages(res.Messages)})
		return
	default:
		s.cfg.Logf("serve: token %q from %s: failed in %s: %v", user, rhost, res.Phase, res.Code)
		d.outcome, d.reason = outcomeRefused, fmt.Sprintf("failed in %s: %v", res.Phase, res.Code)
		s.decided(r.Context(), d)
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "Authentication failure"})
		return
	}
	user, groups, err := s.accountGroups(res)
	if err != nil {
		s.failed(w, r, d, "token", err)
		return
	}
	t, err := s.cfg.Tokens.IssueFor(user, groups, ttl)
	if err != nil {
		s.failed(w, r, d, "token", fmt.Errorf("token: %w", err))
		return
	}
	s.cfg.Logf("serve: token %q from %s: issued for %v", user, rhost, ttl)
	d.outcome, d.reason, d.token = outcomeOK, fmt.Sprintf("token issued for %v", ttl), true
	s.decided(r.Context(), d)
	w.Header().Set("Authorization", "Bearer "+t)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(t + "\n"))
}

func (s *Server) heartbeat(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("ok\n"))
}

// tokenReview is what kube-apiserver sends (authentication.k8s.io v1 and
// v1beta1 have the same fields); metadata and status are ignored.
type tokenReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       *struct {
		Token     string   `json:"token"`
		Audiences []string `json:"audiences"`
	} `json:"spec"`
}

type reviewUser struct {
	Username string   `json:"username"`
	UID      string   `json:"uid"`
	Groups   []string `json:"groups"`
}

type reviewStatus struct {
	Authenticated bool        `json:"authenticated"`
	User          *reviewUser `json:"user,omitempty"`
	Audiences     []string    `json:"audiences,omitempty"`
	Error         string      `json:"error,omitempty"`
}

// authenticate is POST /authenticate, the TokenReview webhook: the
// token's signature, expiry, issuer and audience, then the user as NSS
// knows them now. No PAM: kube-apiserver asks for every request it does
// not have cached. A token that fails is a 200 with authenticated false,
// as the webhook contract wants; only a request that is no TokenReview is
// a 400.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ReviewNeedsClientCert && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
		// --client-ca: only kube-apiserver, with its certificate, asks
		rhost := clientAddr(r, s.cfg.TrustedProxies)
		s.cfg.Logf("serve: authenticate from %s: no client certificate signed by --client-ca; refused", rhost)
		s.decided(r.Context(), decision{endpoint: "/authenticate", rhost: rhost, outcome: outcomeRefused, reason: "no client certificate signed by --client-ca"})
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "A client certificate signed by the service's client CA is required"})
		return
	}
	var req tokenReview
	body, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(body, &req)
		clear(body)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "The request body is not valid JSON"})
		return
	}
	if req.Kind != "TokenReview" || (req.APIVersion != "authentication.k8s.io/v1" && req.APIVersion != "authentication.k8s.io/v1beta1") {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "The request is not a TokenReview of authentication.k8s.io/v1 or v1beta1"})
		return
	}
	if req.Spec == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "The TokenReview has no spec"})
		return
	}
	if s.cfg.Tokens == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]any{"error": "Kubernetes tokens are not enabled"})
		return
	}
	st := s.review(req.Spec.Token, req.Spec.Audiences)
	d := decision{endpoint: "/authenticate", rhost: clientAddr(r, s.cfg.TrustedProxies), outcome: outcomeOK, reason: "token valid"}
	if st.User != nil {
		d.user = st.User.Username
	}
	if !st.Authenticated {
		d.outcome, d.reason = outcomeRefused, st.Error
	}
	s.decided(r.Context(), d)
	writeJSON(w, http.StatusOK, reviewAnswer{APIVersion: req.APIVersion, Kind: "TokenReview", Status: st})
}

func (s *Server) review(tok string, audiences []string) reviewStatus {
	fail := func(msg string, args ...any) reviewStatus {
		s.cfg.Logf("serve: authenticate: "+msg, args...)
		return reviewStatus{Error: fmt.Sprintf(msg, args...)}
	}
	if tok == "" {
		return fail("no token")
	}
	c, err := s.cfg.Tokens.Verify(tok)
	if err != nil {
		return fail("%v", err) // "invalid token: …" or "malformed token: …" already
	}
	if c.Username == "" {
		// a token from /auth or /renew: the web service's rules let the
		// user in, not the Kubernetes service's; only /token's tokens
		// (IssueFor: with the username claim) open Kubernetes
		return fail("token for %q was not issued by /token", c.Subject)
	}
	var granted []string
	if len(audiences) > 0 {
		for _, a := range audiences {
			for _, have := range c.Audience {
				if a == have {
					granted = append(granted, a)
				}
			}
		}
		if len(granted) == 0 {
			return fail("token for %q: its audience %q is none of %q", c.Subject, []string(c.Audience), audiences)
		}
	}
	user := c.Subject
	if uid, groups, ok := s.nssCache.get(user); ok {
		return reviewStatus{Authenticated: true, User: &reviewUser{Username: user, UID: uid, Groups: groups}, Audiences: granted}
	}
	if s.cfg.Users == nil || s.cfg.Groups == nil {
		return fail("token for %q: no NSS configured", user)
	}
	a, found, err := s.cfg.Users.Lookup(user)
	switch {
	case err != nil:
		return fail("token for %q: NSS: %v", user, err)
	case !found:
		return fail("token for %q: no such user in NSS", user)
	case a.Name != user:
		// tokens are issued for the NSS name (account.go): this one was
		// issued for another spelling, or NSS has changed since
		return fail("token for %q: NSS names the account %q", user, a.Name)
	}
	uid := a.UID
	groups, err := s.cfg.Groups.UserGroups(user)
	if err != nil {
		return fail("token for %q: groups: %v", user, err)
	}
	if groups == nil {
		groups = []string{}
	}
	s.nssCache.put(user, uid, groups)
	return reviewStatus{Authenticated: true, User: &reviewUser{Username: user, UID: uid, Groups: groups}, Audiences: granted}
}

// reviewAnswer is the TokenReview sent back: a struct, since a map costs
// its key sorting on every review.
type reviewAnswer struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Status     reviewStatus `json:"status"`
}
