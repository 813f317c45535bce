package call

import (
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestMailRelay (README, "Session mails"): the relay is MAILSERVER from
// the main file, or else the SERVER: line of the mail file, as the
// original's man page wrote it.
func TestMailRelay(t *testing.T) {
	for _, tt := range []struct {
		name, mailServer, serverLine, want string
	}{
		{"MAILSERVER wins", "mail.example.org", "192.168.2.1", "mail.example.org"},
		{"the mail file's SERVER: line", "", "192.168.2.1", "192.168.2.1"},
		{"neither", "", "", ""},
	} {
		cfg := &rules.Config{}
		cfg.Settings.MailServer = tt.mailServer
		if got := mailRelay(cfg, &rules.MailMap{Server: tt.serverLine}); got != tt.want {
			t.Errorf("%s: relay %q, want %q", tt.name, got, tt.want)
		}
	}
}
