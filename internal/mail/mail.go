// Package mail writes and sends the original pam-accesscontrol's mails:
// a session opened, a session closed, and a one-time PIN, through the
// SMTP relay of MAILSERVER.
//
// The text is the original's, so filters and habits built on it keep
// working; the headers a modern relay wants (Date, Message-ID, MIME) are
// added. The address in the subject and the Target line is this host's
// address toward the relay, read off the SMTP connection itself (the
// original asked the kernel for its route to 8.8.8.8).
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/capool"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail/notice"
)

// Kinds of notice.
const (
	NewSession   = notice.NewSession
	CloseSession = notice.CloseSession
	PIN          = notice.PIN
)

// DefaultFrom is the original's sender.
const DefaultFrom = "pam-accesscontrol@localhost"

// Notice is what one mail says.
type Notice = notice.Notice

// Options say how to reach the relay.
type Options struct {
	From string // the sender; DefaultFrom when empty
	// StartTLS requires the relay to offer STARTTLS and to show a
	// certificate for its name that chains to CAFile (the system's CAs
	// when empty). Without it the mail goes in clear, as the original's.
	StartTLS bool
	CAFile   string
	Timeout  time.Duration // bounds the whole exchange
}

// Send mails n to every address in to through relay (host[:port], port
// 25 by default). A relay on this host is refused unless root holds its
// port (internal/localpeer).
func Send(relay string, o Options, to []string, n Notice) error {
	if len(to) == 0 {
		return fmt.Errorf("no recipient")
	}
	from, timeout := o.From, o.Timeout
	if from == "" {
		from = DefaultFrom
	}
	addr := relay
	if _, _, err := net.SplitHostPort(relay); err != nil {
		addr = net.JoinHostPort(strings.Trim(relay, "[]"), "25")
	}
	host, _, _ := net.SplitHostPort(addr)
	deadline := time.Now().Add(timeout)
	// a relay on this host must be root's: whoever else holds its port
	// would read every mail, and a PIN mailed to it lets them in
	conn, err := localpeer.Dial(context.Background(), &net.Dialer{Timeout: timeout}, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	local, _, _ := net.SplitHostPort(conn.LocalAddr().String())
	hostname, _ := os.Hostname()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("%s: %w", relay, err)
	}
	defer c.Close()
	if hostname != "" {
		if err := c.Hello(hostname); err != nil {
			return fmt.Errorf("%s: EHLO: %w", relay, err)
		}
	}
	if o.StartTLS {
		if err := startTLS(c, host, o.CAFile); err != nil {
			return fmt.Errorf("%s: %w", relay, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("%s: MAIL FROM: %w", relay, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("%s: RCPT TO %s: %w", relay, rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("%s: DATA: %w", relay, err)
	}
	if _, err := w.Write(Compose(n, from, to, local, hostname)); err != nil {
		return fmt.Errorf("%s: %w", relay, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: the relay refused the message: %w", relay, err)
	}
	return c.Quit()
}

// startTLS encrypts the session, or says why it cannot: a relay that does
// not offer it, or whose certificate is not trusted, gets nothing.
func startTLS(c *smtp.Client, host, caFile string) error {
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return errors.New("MAIL_TLS:STARTTLS, but the relay does not offer STARTTLS")
	}
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := capool.Load(caFile)
		if err != nil {
			return fmt.Errorf("MAIL_CA: %w", err)
		}
		conf.RootCAs = pool
	}
	if err := c.StartTLS(conf); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	return nil
}

// Compose is the whole message: headers and the original's text. myIP is
// this host's address, hostname its name. Lines end in LF; the SMTP
// writer turns them into CRLF and escapes leading dots.
func Compose(n Notice, from string, to []string, myIP, hostname string) []byte {
	suffix := map[string]string{
		NewSession:   " (creating new session)",
		CloseSession: " (closing session)",
		PIN:          " (one time PIN)",
	}[n.Kind]
	target := myIP
	if hostname != "" {
		target += " (" + hostname + ")"
	}
	var b strings.Builder
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, clean(v)) }
	header("From", from)
	header("To", strings.Join(to, ", "))
	header("Subject", "[PAM-ACCESSCONTROL] "+myIP+" : "+n.Service+suffix)
	header("Date", n.Time.Format(time.RFC1123Z))
	header("Message-ID", messageID(hostname))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\n*** Security notification ***\n\n")
	switch n.Kind {
	case NewSession:
		rhost := n.RHost
		if rhost == "" {
			rhost = "LOCAL"
		}
		fmt.Fprintf(&b, "Source:  %s\nTarget:  %s\nService: %s\nUser:    %s\n\nSuccessfully logged in\n",
			clean(rhost), clean(target), clean(n.Service), clean(n.User))
	case CloseSession:
		fmt.Fprintf(&b, "Session for user '%s' is closed\n", clean(n.User))
	case PIN:
		if strings.Contains(n.Secret, "\n") {
			// an armored message starts its own line, where gpg looks for it
			fmt.Fprintf(&b, "PIN for this session:\n\n%s", n.Secret)
		} else {
			fmt.Fprintf(&b, "PIN for this session: %s\n", n.Secret)
		}
	}
	return []byte(b.String())
}

// clean keeps a value on its line: a user name or a remote host must not
// start a header or a line of its own.
func clean(s string) string { return logging.OneLine(s) }

func messageID(hostname string) string {
	id := make([]byte, 12)
	rand.Read(id)
	if hostname == "" {
		hostname = "localhost"
	}
	return "<" + hex.EncodeToString(id) + ".pam-accesscontrol@" + hostname + ">"
}
