package serve

import (
	"crypto/tls"
	"fmt"
)

// tlsConfig is serve's TLS: the certificate and key of --tls-cert and
// --tls-key, loaded before anything listens (so that a wrong file stops
// the start with an error naming the flags, not the first handshake), and
// TLS 1.2 at least, stated here rather than left to Go's default, which
// GODEBUG=tls10server=1 in the service's environment would lower to TLS
// 1.0. HTTP/2 is offered by net/http's ServeTLS (ALPN h2).
func tlsConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %q, --tls-key %q: %v", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
