// Package capool reads a PEM bundle of CA certificates, for the TLS
// connections to a syslog server and a mail relay.
package capool

import (
	"crypto/x509"
	"fmt"
	"os"
)

// Load returns the certificates of the PEM file at path; a file without
// one is an error, not an empty pool that would trust nothing silently.
func Load(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}
