package checkconfig

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckPinSetup (README, "PIN and PINGPG"): check-my-config warns at
// a PIN rule whose PIN could not be mailed: no mapping file, or no relay
// (neither MAILSERVER nor the mapping's SERVER: line). With both, nothing.
func TestCheckPinSetup(t *testing.T) {
	const mapping = "alice alice@example.org\n"
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  string // a line of the output; "" for none about the PIN
	}{
		{"no mapping", map[string]string{"pam-accesscontrol.conf": "MAILSERVER:mail.example.org\nSSHD PIN USER alice\n"},
			"pam-accesscontrol.conf:2: warning: PIN mails a PIN to the address in {dir}/login-mail-mapping.conf, which does not exist"},
		{"no relay", map[string]string{"pam-accesscontrol.conf": "SSHD PIN USER alice\n", "login-mail-mapping.conf": mapping},
			"pam-accesscontrol.conf:1: warning: PIN mails a PIN through MAILSERVER, which is not set: the users it matches are denied"},
		{"the mapping's SERVER: line is a relay", map[string]string{"pam-accesscontrol.conf": "SSHD PINGPG USER alice\n",
			"login-mail-mapping.conf": "SERVER:mail.example.org\n" + mapping}, ""},
		{"all set", map[string]string{"pam-accesscontrol.conf": "MAILSERVER:mail.example.org\nSSHD PIN USER alice\n",
			"login-mail-mapping.conf": mapping}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, tt.files)
			out, _, code := check(filepath.Join(dir, "pam-accesscontrol.conf"))
			want := strings.ReplaceAll(tt.want, "{dir}", dir)
			switch {
			case want != "" && (code != 1 || !strings.Contains(out, want)):
				t.Errorf("exit %d, want 1 and %q:\n%s", code, want, out)
			case want == "" && (code != 0 || strings.Contains(out, "PIN")):
				t.Errorf("exit %d, want 0 and nothing about the PIN:\n%s", code, out)
			}
		})
	}
}
