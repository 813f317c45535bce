package serve

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// discovery serves the OpenID Connect discovery document
// (token.Issuer.Discovery), so that OIDC_ISSUER (a TOKEN rule on another
// host) or any OIDC relying party finds the JWKS from the issuer alone.
func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(s.cfg.Tokens.Discovery())
}

// discoveryNote is the startup line that says why an --issuer that looks
// like a URL gets no discovery document ("" when it gets one, or when the
// issuer is a plain name, as by default): the admin who meant serve to be
// OIDC_ISSUER learns it here, not from every TOKEN login refused.
func discoveryNote(tok *token.Issuer, issuer string) string {
	if tok == nil || tok.Discovery() != nil || !strings.Contains(issuer, "://") {
		return ""
	}
	if tok.JWKS() == nil {
		return fmt.Sprintf("serve: --issuer %q: no %s: an HMAC secret cannot be published, so nobody else can check the tokens (use an Ed25519 or ECDSA P-256 key)", issuer, token.WellKnown)
	}
	return fmt.Sprintf("serve: --issuer %q: no %s: the issuer must be an https URL (http only on a loopback address) without a query or fragment", issuer, token.WellKnown)
}
