// Package capool reads a PEM bundle of CA certificates, for the TLS
// connections to a syslog server, a mail relay, OPA and an OpenID
// provider, and for the clients of serve's --client-ca.
package capool

import (
	"crypto/x509"
	"fmt"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// maxBundle bounds a bundle: Debian's whole ca-certificates.crt is about
// 220 KB.
const maxBundle = 4 << 20

// Load returns the certificates of the PEM file at path; a file without
// one is an error, not an empty pool that would trust nothing silently.
// A bundle vouches for whom we talk to, so only root may choose it: the
// file is read through trust.ReadFile, from the descriptor whose owner
// and mode (and every directory above it) were checked, not by its name
// again after a check.
func Load(path string) (*x509.CertPool, error) {
	pem, err := trust.ReadFile(path, maxBundle)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}
