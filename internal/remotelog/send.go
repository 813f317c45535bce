package remotelog

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/RackSec/srslog"
)

// Sender keeps one connection per server for a run of the deliverer, so a
// backlog goes out over one TCP or TLS session. Not safe for concurrent use.
type Sender struct {
	writers map[string]*srslog.Writer
}

// Send writes one formatted line (Format) to target, connecting first if
// needed. timeout bounds the connect, the TLS handshake and each write;
// caFile, for TLS, is the PEM bundle the server's certificate must chain
// to (the system's roots when empty).
func (s *Sender) Send(target, caFile string, timeout time.Duration, line string) error {
	t, err := ParseTarget(target)
	if err != nil {
		return err
	}
	key := t.String() + " " + caFile
	w := s.writers[key]
	if w == nil {
		if w, err = dial(t, caFile, timeout); err != nil {
			return err
		}
		if s.writers == nil {
			s.writers = map[string]*srslog.Writer{}
		}
		s.writers[key] = w
	}
	// the priority is in the line already: the formatter sends it as it is
	if _, err := w.WriteWithPriority(srslog.LOG_AUTHPRIV|srslog.LOG_INFO, []byte(line)); err != nil {
		w.Close()
		delete(s.writers, key)
		return fmt.Errorf("sending to %s: %w", t, err)
	}
	return nil
}

// Close ends every connection.
func (s *Sender) Close() {
	for k, w := range s.writers {
		w.Close()
		delete(s.writers, k)
	}
}

func dial(t Target, caFile string, timeout time.Duration) (*srslog.Writer, error) {
	var tlsConf *tls.Config
	if t.Network == "tls" {
		host, _, _ := net.SplitHostPort(t.Addr)
		tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return nil, fmt.Errorf("SYSLOG_CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("SYSLOG_CA %s: no PEM certificate in it", caFile)
			}
			tlsConf.RootCAs = pool
		}
	}
	connect := func(string, string) (net.Conn, error) {
		d := &net.Dialer{Timeout: timeout}
		network := t.Network
		if network == "tls" {
			c, err := tls.DialWithDialer(d, "tcp", t.Addr, tlsConf)
			if err != nil {
				return nil, err
			}
			return &deadlineConn{Conn: c, timeout: timeout}, nil
		}
		c, err := d.Dial(network, t.Addr)
		if err != nil {
			return nil, err
		}
		return &deadlineConn{Conn: c, timeout: timeout}, nil
	}
	w, err := srslog.DialWithCustomDialer("custom", t.Addr, srslog.LOG_AUTHPRIV|srslog.LOG_INFO, "pam-accesscontrol", connect)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", t, err)
	}
	w.SetFormatter(func(_ srslog.Priority, _, _, content string) string {
		return strings.TrimSuffix(content, "\n")
	})
	if t.Network == "udp" {
		w.SetFramer(srslog.DefaultFramer) // one datagram, one message
	} else {
		w.SetFramer(srslog.RFC5425MessageLengthFramer) // RFC 6587 octet counting
	}
	return w, nil
}

// deadlineConn bounds every write, so a server that stops reading cannot
// hold the deliverer.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("no progress in %v", c.timeout)
	}
	return n, err
}
