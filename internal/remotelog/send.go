// Package remotelog sends audit events to a central syslog server (rsyslog,
// syslog-ng) as RFC 5424 messages whose structured data carries every field
// of the event, over UDP, TCP (RFC 6587 octet counting) or TLS (RFC 5425),
// through srslog.
//
// It only formats and sends; the helper puts the formatted lines in the
// outbox and the detached deliverer calls Send, so a dead log server never
// delays a login. The server's address is read by internal/syslogtarget.
package remotelog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/RackSec/srslog"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/capool"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/syslogtarget"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Sender keeps one connection per server for a run of the deliverer, so a
// backlog goes out over one TCP or TLS session. Not safe for concurrent use.
type Sender struct {
	writers map[string]*srslog.Writer
}

// Options say how to reach a server.
type Options struct {
	// CAFile, for TLS, is the PEM bundle the server's certificate must
	// chain to; the system's roots when empty.
	CAFile string
	// CertFile and KeyFile, for TLS, are this host's certificate and key
	// (PEM), for servers that want to know their clients (rsyslog's
	// x509/certvalid and x509/name modes); none when empty.
	CertFile, KeyFile string
	// Timeout bounds the connect, the TLS handshake and each write.
	Timeout time.Duration
}

// Send writes one formatted line (rfc5424.Format) to target, connecting first if
// needed.
func (s *Sender) Send(target string, o Options, line string) error {
	t, err := syslogtarget.Parse(target)
	if err != nil {
		return err
	}
	key := strings.Join([]string{t.String(), o.CAFile, o.CertFile, o.KeyFile}, " ")
	w := s.writers[key]
	if w == nil {
		if w, err = dial(t, o); err != nil {
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

func dial(t syslogtarget.Target, o Options) (*srslog.Writer, error) {
	var tlsConf *tls.Config
	if t.Network == "tls" {
		var err error
		if tlsConf, err = tlsConfig(t, o); err != nil {
			return nil, err
		}
	}
	timeout := o.Timeout
	connect := func(string, string) (net.Conn, error) {
		d := &net.Dialer{Timeout: timeout}
		if t.Network == "udp" {
			c, err := d.Dial("udp", t.Addr)
			if err != nil {
				return nil, err
			}
			return &deadlineConn{Conn: c, timeout: timeout, datagrams: true}, nil
		}
		// a server on this host must be root's, checked before a word
		// (or a TLS hello) goes to it
		c, err := localpeer.Dial(context.Background(), d, "tcp", t.Addr)
		if err != nil {
			return nil, err
		}
		if t.Network == "tls" {
			tc, err := handshake(c, tlsConf, timeout)
			if err != nil {
				c.Close()
				return nil, err
			}
			c = tc
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

func tlsConfig(t syslogtarget.Target, o Options) (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(t.Addr)
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pool, err := capool.Load(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("SYSLOG_CA: %w", err)
		}
		conf.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("SYSLOG_CERT and SYSLOG_KEY: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// maxPEM bounds a certificate chain or a key file.
const maxPEM = 1 << 20

// KeyPair reads the client certificate and its key as root's files
// (trust.ReadFile: from the descriptors whose owner and mode were
// checked), as tls.LoadX509KeyPair would read them by name.
func KeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := trust.ReadFile(certFile, maxPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := trust.ReadFile(keyFile, maxPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	defer clear(keyPEM)
	return tls.X509KeyPair(certPEM, keyPEM)
}

// handshake runs the TLS client handshake on c within timeout (none when
// 0), and waits a moment for a refusal the server sends after it.
func handshake(c net.Conn, conf *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	tc := tls.Client(c, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	if err := refusedAfterHandshake(tc); err != nil {
		return nil, err
	}
	return tc, nil
}

// refusedAfterHandshake catches a server that refuses this client only
// after the TLS 1.3 handshake, which completes on the client's side before
// the server has checked the client's certificate: without this, the
// messages would be written into a connection the server is closing. A
// syslog server never writes, so anything it sends within a moment is its
// refusal.
func refusedAfterHandshake(c *tls.Conn) error {
	c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	defer c.SetReadDeadline(time.Time{})
	_, err := c.Read(make([]byte, 1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	if err == nil {
		err = errors.New("it sent data")
	}
	return fmt.Errorf("the server refused this client after the TLS handshake: %w", err)
}

// deadlineConn bounds every write, so a server that stops reading cannot
// hold the deliverer. For datagrams, it checks before each that whoever
// would receive it on this host is root (a UDP port can be bound between
// two), since there is no connection to check once.
type deadlineConn struct {
	net.Conn
	timeout   time.Duration
	datagrams bool
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if c.datagrams {
		ctx, cancel := context.WithTimeout(context.Background(), max(c.timeout, time.Second))
		err := localpeer.CheckUDP(ctx, c.Conn)
		cancel()
		if err != nil {
			return 0, err
		}
	}
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("no progress in %v", c.timeout)
	}
	return n, err
}
