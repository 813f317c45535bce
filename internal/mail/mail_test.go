package mail

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer/localpeertest"
)

var when = time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)

func TestCompose(t *testing.T) {
	to := []string{"a@example.org", "b@example.org"}
	for _, tc := range []struct {
		name    string
		n       Notice
		subject string
		body    string
	}{
		{"new session", Notice{Kind: NewSession, Time: when, Service: "sshd", User: "alice", RHost: "10.2.2.2"},
			"[PAM-ACCESSCONTROL] 192.0.2.7 : sshd (creating new session)",
			"*** Security notification ***\n\nSource:  10.2.2.2\nTarget:  192.0.2.7 (web01)\nService: sshd\nUser:    alice\n\nSuccessfully logged in\n"},
		{"local session", Notice{Kind: NewSession, Time: when, Service: "login", User: "bob"},
			"[PAM-ACCESSCONTROL] 192.0.2.7 : login (creating new session)",
			"*** Security notification ***\n\nSource:  LOCAL\nTarget:  192.0.2.7 (web01)\nService: login\nUser:    bob\n\nSuccessfully logged in\n"},
		{"closed", Notice{Kind: CloseSession, Time: when, Service: "sshd", User: "alice"},
			"[PAM-ACCESSCONTROL] 192.0.2.7 : sshd (closing session)",
			"*** Security notification ***\n\nSession for user 'alice' is closed\n"},
		{"pin", Notice{Kind: PIN, Time: when, Service: "sshd", User: "alice", Secret: "7KQ2M9XA"},
			"[PAM-ACCESSCONTROL] 192.0.2.7 : sshd (one time PIN)",
			"*** Security notification ***\n\nPIN for this session: 7KQ2M9XA\n"},
		{"encrypted pin", Notice{Kind: PIN, Time: when, Service: "sshd", User: "alice", Secret: "-----BEGIN PGP MESSAGE-----\n\nxx\n-----END PGP MESSAGE-----\n"},
			"[PAM-ACCESSCONTROL] 192.0.2.7 : sshd (one time PIN)",
			"*** Security notification ***\n\nPIN for this session:\n\n-----BEGIN PGP MESSAGE-----\n\nxx\n-----END PGP MESSAGE-----\n"},
		{"a name cannot add a line", Notice{Kind: CloseSession, Time: when, Service: "sshd\nBcc: x@y", User: "a\n.\nRCPT"},
			"[PAM-ACCESSCONTROL] 192.0.2.7 : sshd\\x0aBcc: x@y (closing session)",
			"*** Security notification ***\n\nSession for user 'a\\x0a.\\x0aRCPT' is closed\n"},
	} {
		msg := string(Compose(tc.n, "pamac@web01", to, "192.0.2.7", "web01"))
		head, body, ok := strings.Cut(msg, "\n\n")
		if !ok {
			t.Fatalf("%s: no blank line after the headers:\n%s", tc.name, msg)
		}
		headers := map[string]string{}
		for _, l := range strings.Split(head, "\n") {
			k, v, _ := strings.Cut(l, ": ")
			headers[k] = v
		}
		want := map[string]string{
			"From": "pamac@web01", "To": "a@example.org, b@example.org", "Subject": tc.subject,
			"Date": "Sun, 22 Nov 2026 17:00:00 +0000", "Content-Type": "text/plain; charset=utf-8",
		}
		for k, v := range want {
			if headers[k] != v {
				t.Errorf("%s: %s: %q, want %q", tc.name, k, headers[k], v)
			}
		}
		if !strings.HasPrefix(headers["Message-ID"], "<") || !strings.HasSuffix(headers["Message-ID"], "@web01>") {
			t.Errorf("%s: Message-ID %q", tc.name, headers["Message-ID"])
		}
		if len(headers) != 9 {
			t.Errorf("%s: headers %v", tc.name, headers)
		}
		if body != tc.body {
			t.Errorf("%s: body\n%q\nwant\n%q", tc.name, body, tc.body)
		}
	}
}

// A relay that accepts and says nothing costs Send its timeout, no more.
func TestSendTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	err = Send(ln.Addr().String(), Options{Timeout: 300 * time.Millisecond}, []string{"a@example.org"}, Notice{Kind: NewSession})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("silent relay: %v after %v", err, time.Since(start))
	}
	if err := Send(ln.Addr().String(), Options{Timeout: time.Second}, nil, Notice{}); err == nil {
		t.Error("a mail without recipients was sent")
	}
}

// fakeRelay is a minimal SMTP relay on l, keeping what clients send.
type fakeRelay struct {
	mu  sync.Mutex
	got []string // every line any client sent
}

func serveRelay(l net.Listener) *fakeRelay {
	r := &fakeRelay{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *fakeRelay) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("220 fake ESMTP\r\n"))
	in := bufio.NewScanner(c)
	data := false
	for in.Scan() {
		line := in.Text()
		r.mu.Lock()
		r.got = append(r.got, line)
		r.mu.Unlock()
		switch cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0]); {
		case data && line == ".":
			data = false
			c.Write([]byte("250 queued\r\n"))
		case data:
		case cmd == "DATA":
			data = true
			c.Write([]byte("354 go on\r\n"))
		case cmd == "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}

func (r *fakeRelay) lines() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.got, "\n")
}

// TestSendLocalRelayOwner: a relay on this host gets the mail only when
// root holds its port, whoever accepts on it (postfix's master listens as
// root, its smtpd accepts as postfix). The attacker is uid 65534 on
// 127.0.0.1's port while the real relay is down: a PIN mailed to it would
// let them in.
func TestSendLocalRelayOwner(t *testing.T) {
	pin := Notice{Kind: PIN, Time: when, Service: "sshd", User: "alice", Secret: "7KQ2M9XA"}
	for _, tt := range []struct {
		uid, acceptUID int
		want           string // "" sent, else part of the error
	}{{0, 0, ""}, {0, 107, ""}, {65534, 65534, "is held by uid 65534"}} {
		l := localpeertest.Listen(t, tt.uid, "tcp", "127.0.0.1:0")
		if tt.acceptUID != tt.uid {
			l = localpeertest.AcceptAs(t, l, tt.acceptUID)
		}
		relay := serveRelay(l)
		_, port, _ := net.SplitHostPort(l.Addr().String())
		for _, addr := range []string{l.Addr().String(), "localhost:" + port} {
			err := Send(addr, Options{Timeout: 2 * time.Second}, []string{"alice@example.org"}, pin)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("uid %d's relay at %s: %v", tt.uid, addr, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("uid %d's relay at %s: %v, want an error saying %q", tt.uid, addr, err, tt.want)
			}
		}
		got := relay.lines()
		if sent := strings.Contains(got, "7KQ2M9XA"); sent != (tt.want == "") {
			t.Errorf("uid %d's relay received:\n%s", tt.uid, got)
		}
		if tt.want != "" && got != "" {
			t.Errorf("uid %d's relay was told anything:\n%s", tt.uid, got)
		}
	}
}
