package plugin

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// TestRhostIn: ctx.rhost_in reads PAM_RHOST as HOST rules do
// (rules.RemoteAddr): an address is in a network or not; anything else,
// a host name included, is in none, so a plugin opens nothing for a name.
// A plugin that closes by network tells a name by rhost_in(["0.0.0.0/0",
// "::/0"]) (README, "Remote host names").
func TestRhostIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nets.star")
	writeFile(t, path, `
def decide(ctx):
    if not ctx.rhost:
        return None
    if not ctx.rhost_in(["0.0.0.0/0", "::/0"]):
        return "ASK"  # not an address
    if ctx.rhost_in(["10.0.0.0/8", "2001:db8::/32"]):
        return "OPEN"
    return "CLOSE"
`)
	p := &Runner{Host: &starhost.Host{}, Files: map[string]string{"nets": path}}
	for _, tt := range []struct {
		rhost string
		want  rules.Answer
	}{
		{"", rules.NoOpinion},
		{"10.1.2.3", rules.AnswerOpen},
		{"::ffff:10.1.2.3", rules.AnswerOpen},
		{"2001:db8::1", rules.AnswerOpen},
		{"fe80::1%eth0", rules.AnswerClose},
		{"192.0.2.1", rules.AnswerClose},
		{"gw.example.com", rules.AnswerAsk},
		{"10.1.2.3.evil.example.com", rules.AnswerAsk},
		{"[10.1.2.3]", rules.AnswerAsk},
		{"10.1.2.3.", rules.AnswerAsk},
		{" 10.1.2.3", rules.AnswerAsk},
	} {
		got, err := p.Decide(context.Background(), &rules.Rule{Plugin: "nets"}, rules.Login{Service: "sshd", User: "alice", RHost: tt.rhost})
		if err != nil || got != tt.want {
			t.Errorf("rhost %q: %v, %v; want %v", tt.rhost, got, err, tt.want)
		}
	}
}
