package serve

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// auth is POST /auth: a PAM login (authenticate and account), then the
// groups from NSS and a token. A stack that asks more than the password
// (an OTP, a PIN) answers 401 with the prompts as "challenge"; the client
// sends the same request again with "answers", one per prompt, in order.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) {
	var req request
	if !decode(w, r, &req) {
		return
	}
	defer req.wipe()
	if !given(req.Username) || len(req.Password) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "No username or password provided"})
		return
	}
	user := *req.Username
	if !userName.MatchString(user) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid username provided"})
		return
	}
	answers := make([][]byte, 0, len(req.Answers))
	for _, a := range req.Answers {
		answers = append(answers, a)
	}
	rhost := clientAddr(r, s.cfg.TrustedProxies)
	d := decision{endpoint: "/auth", service: s.cfg.WebService, user: s.limitName(user), rhost: rhost}
	if s.limited(w, r, d.endpoint, d.service, d.user, rhost) {
		return
	}
	res, err := s.cfg.PAM.Authenticate(r.Context(), pamclient.Request{User: user, RHost: rhost, Password: req.Password, Answers: answers})
	if err != nil {
		s.failed(w, r, d, "auth", err)
		return
	}
	switch res.Outcome {
	case pamclient.Challenge:
		s.cfg.Logf("serve: auth %q from %s: challenge (%d prompts)", user, rhost, len(res.Prompts))
		d.outcome, d.reason = outcomeChallenge, fmt.Sprintf("%d prompts", len(res.Prompts))
		s.decided(r.Context(), d)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Additional authentication required", "auth": false,
			"challenge": res.Prompts, "messages": messages(res.Messages)})
		return
	case pamclient.Success:
	default:
		s.cfg.Logf("serve: auth %q from %s: failed in %s: %v", user, rhost, res.Phase, res.Code)
		d.outcome, d.reason = outcomeRefused, fmt.Sprintf("failed in %s: %v", res.Phase, res.Code)
		s.decided(r.Context(), d)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Authentication failed", "auth": false})
		return
	}
	user, groups, err := s.accountGroups(res)
	if err != nil {
		s.failed(w, r, d, "auth", err)
		return
	}
	var jwt any // null without tokens, as beesly
	if s.cfg.Tokens != nil {
		t, err := s.cfg.Tokens.Issue(user, groups)
		if err != nil {
			s.failed(w, r, d, "auth", fmt.Errorf("token: %w", err))
			return
		}
		jwt, d.token = t, true
	}
	s.cfg.Logf("serve: auth %q from %s: success", user, rhost)
	d.outcome, d.reason = outcomeOK, "authenticated"
	if d.token {
		d.reason += ", token issued"
	}
	s.decided(r.Context(), d)
	writeJSON(w, http.StatusOK, map[string]any{"message": "Authentication successful", "auth": true, "groups": groups, "jwt": jwt})
}

func messages(m []pamclient.Message) []pamclient.Message {
	if m == nil {
		return []pamclient.Message{}
	}
	return m
}

// renew is POST /renew: beesly's checks in beesly's order, then what
// beesly skipped: the account phase and the rules through PAM (no
// password: pam_acct_mgmt alone) and the groups again.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tokens == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]any{"message": "JWT renewal is not enabled"})
		return
	}
	var req request
	if !decode(w, r, &req) {
		return
	}
	if !given(req.JWT) || !given(req.Username) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "No JWT or username provided"})
		return
	}
	user := *req.Username
	if !userName.MatchString(user) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid username provided"})
		return
	}
	rhost := clientAddr(r, s.cfg.TrustedProxies)
	d := decision{endpoint: "/renew", service: s.cfg.WebService, user: s.limitName(user), rhost: rhost}
	if s.limited(w, r, d.endpoint, d.service, d.user, rhost) {
		return
	}
	refuse := func(status int, msg, reason string) {
		d.outcome, d.reason = outcomeRefused, reason
		s.decided(r.Context(), d)
		writeJSON(w, status, map[string]any{"message": msg})
	}
	sub, err := token.Subject(*req.JWT)
	switch {
	case errors.Is(err, token.ErrMalformed):
		refuse(http.StatusBadRequest, "Invalid JWT", "malformed token")
		return
	case err != nil:
		refuse(http.StatusUnauthorized, "Invalid claims in JWT", "invalid claims")
		return
	case sub != user:
		refuse(http.StatusBadRequest, "Invalid subject in JWT claim", "the token's subject is another user")
		return
	}
	if _, err := s.cfg.Tokens.Verify(*req.JWT); err != nil {
		refuse(http.StatusUnauthorized, "Failed to renew invalid JWT", "invalid token: "+err.Error())
		return
	}
	res, err := s.cfg.PAM.Account(r.Context(), user, rhost)
	if err != nil {
		s.failed(w, r, d, "renew", err)
		return
	}
	if res.Outcome != pamclient.Success {
		s.cfg.Logf("serve: renew %q from %s: refused in %s: %v", user, rhost, res.Phase, res.Code)
		refuse(http.StatusUnauthorized, "Failed to renew JWT: the account may no longer log in", fmt.Sprintf("refused in %s: %v", res.Phase, res.Code))
		return
	}
	// tokens carry the NSS name (account.go); an account NSS now spells
	// otherwise, or that PAM mapped elsewhere, is not this token's
	if acct, err := s.account(res); err != nil || acct != user {
		s.cfg.Logf("serve: renew %q from %s: the account is %q (%v)", user, rhost, acct, err)
		refuse(http.StatusUnauthorized, "Failed to renew JWT: the account may no longer log in", fmt.Sprintf("the account is %q (%v)", acct, err))
		return
	}
	groups, err := s.groupsOf(user)
	if err != nil {
		s.failed(w, r, d, "renew", fmt.Errorf("groups: %w", err))
		return
	}
	t, err := s.cfg.Tokens.Issue(user, groups)
	if err != nil {
		s.failed(w, r, d, "renew", fmt.Errorf("token: %w", err))
		return
	}
	s.cfg.Logf("serve: renew %q from %s: renewed", user, rhost)
	d.outcome, d.reason = outcomeOK, "renewed"
	s.decided(r.Context(), d)
	writeJSON(w, http.StatusOK, map[string]any{"message": "JWT successfully renewed", "jwt": t})
}

// verify is POST /verify: beesly's answers; a username field is ignored.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tokens == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]any{"message": "JWT verification is not enabled"})
		return
	}
	var req request
	if !decode(w, r, &req) {
		return
	}
	if !given(req.JWT) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "No JWT provided"})
		return
	}
	c, err := s.cfg.Tokens.Verify(*req.JWT)
	if err == nil && c.Username != "" {
		// a token from GET /token: the Kubernetes service's rules let its
		// user in, not the web service's, which a web app asks about here
		s.cfg.Logf("serve: verify: a Kubernetes token (GET /token) for %q is no web token", c.Subject)
		err = errors.New("a Kubernetes token")
	}
	switch {
	case errors.Is(err, token.ErrMalformed):
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid JWT"})
	case errors.Is(err, token.ErrClaims):
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid claims in JWT", "valid": false})
	case err != nil:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Failed to verify JWT", "valid": false})
	default:
		s.cfg.Metrics.verified()
		writeJSON(w, http.StatusOK, map[string]any{"message": "JWT successfully verified", "valid": true})
	}
}
