package mail

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestSendDefaultFrom (README, "Session mails"): without MAIL_FROM a mail
// is from the original's sender, pam-accesscontrol@localhost, in the
// envelope and the header; MAIL_FROM replaces both.
func TestSendDefaultFrom(t *testing.T) {
	for _, tt := range []struct{ from, want string }{
		{"", "pam-accesscontrol@localhost"},
		{"pamac@web1.example.org", "pamac@web1.example.org"},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r := serveRelay(l)
		err = Send(l.Addr().String(), Options{From: tt.from, Timeout: 5 * time.Second}, []string{"a@example.org"},
			Notice{Kind: NewSession, Time: when, Service: "sshd", User: "alice", RHost: "10.1.1.1"})
		l.Close()
		if err != nil {
			t.Fatalf("from %q: %v", tt.from, err)
		}
		got := r.lines()
		if !strings.Contains(got, "MAIL FROM:<"+tt.want+">") || !strings.Contains(got, "\nFrom: "+tt.want+"\n") {
			t.Errorf("from %q: want envelope and header from %s; the relay got:\n%s", tt.from, tt.want, got)
		}
	}
}
