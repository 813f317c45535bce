package serve

import "net/http"

// discovery serves the OpenID Connect discovery document
// (token.Issuer.Discovery), so that OIDC_ISSUER (a TOKEN rule on another
// host) or any OIDC relying party finds the JWKS from the issuer alone.
func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(s.cfg.Tokens.Discovery())
}
