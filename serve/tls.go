package serve

import (
	"crypto/tls"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/capool"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/filestate"
)

// tlsConfig is serve's TLS: the certificate and key of --tls-cert and
// --tls-key, loaded before anything listens (so that a wrong file stops
// the start with an error naming the flags, not the first handshake) and
// again when they change (certReloader), and TLS 1.2 at least, stated
// here rather than left to Go's default, which GODEBUG=tls10server=1 in
// the service's environment would lower to TLS 1.0. HTTP/2 is offered by
// net/http's ServeTLS (ALPN h2).
//
// With clientCA (--client-ca), a client may present a certificate, which
// must then verify against that bundle (else the handshake fails);
// POST /authenticate refuses a client without one (kube.go). The bundle
// vouches for who may ask, so it must be root's (capool.Load checks), as
// OIDC_CA; it is read once, at the start.
func tlsConfig(certFile, keyFile, clientCA string, logf func(string, ...any)) (*tls.Config, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, logf: logf, now: time.Now}
	if err := r.load(); err != nil {
		return nil, err
	}
	c := &tls.Config{GetCertificate: r.certificate, MinVersion: tls.VersionTLS12}
	if clientCA != "" {
		pool, err := capool.Load(clientCA)
		if err != nil {
			return nil, fmt.Errorf("--client-ca: %w", err)
		}
		c.ClientCAs, c.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return c, nil
}

// certCheckInterval is how often, at most, a handshake looks whether the
// certificate's files changed: a renewed certificate is in use within it.
const certCheckInterval = 5 * time.Second

// certReloader serves the pair of --tls-cert and --tls-key and takes up
// new files without a restart (certbot, cert-manager and the like
// replace them every few weeks, a Kubernetes secret by swapping a
// symbolic link). A handshake at most once per certCheckInterval looks at
// both files (internal/filestate); when either is another file or was
// written since, the pair is loaded again. A pair that does not load (written half, a key
// of another certificate, gone) leaves the one in use in place, with one
// log line for each change seen, and is tried again at the next change.
type certReloader struct {
	certFile, keyFile string
	logf              func(string, ...any)
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   []filestate.State // of the files as last loaded or tried
	checked time.Time
}

// load reads the pair; the stamps are taken first, so that a file
// written while it is read is seen as changed at the next check.
func (r *certReloader) load() error {
	r.stamp = filestate.Look(filestate.Files(r.certFile, r.keyFile))
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %q, --tls-key %q: %v", r.certFile, r.keyFile, err)
	}
	r.cert = &cert
	return nil
}

// certificate is tls.Config.GetCertificate.
func (r *certReloader) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) >= certCheckInterval || now.Before(r.checked) {
		r.checked = now
		if !slices.Equal(filestate.Look(filestate.Files(r.certFile, r.keyFile)), r.stamp) {
			if err := r.load(); err != nil {
				r.logf("serve: the TLS certificate's files changed, but %v: still serving the one loaded before", err)
			} else {
				r.logf("serve: TLS certificate loaded again from %s", r.certFile)
			}
		}
	}
	return r.cert, nil
}
