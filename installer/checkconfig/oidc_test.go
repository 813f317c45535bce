package checkconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func TestCheckOIDCSetup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the secret file must be root's")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.secret")
	os.WriteFile(good, []byte("s3cret\n"), 0o600)
	open := filepath.Join(dir, "open.secret")
	os.WriteFile(open, []byte("s3cret\n"), 0o644)
	base := "OIDC_ISSUER:https://sso.example.com\nOIDC_CLIENT_ID:pam\nOIDC_SCOPE:pam\n"
	for _, tt := range []struct {
		conf string
		want []string
	}{
		{base + "OIDC_CLIENT_SECRET:" + good + "\nSSHD TOKEN GROUP users\n", nil},
		{"SSHD TOKEN GROUP users\n", []string{"r.conf:1: warning: TOKEN checks single sign-on tokens, but OIDC_ISSUER (or OIDC_INTROSPECTION), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET is not set",
			"r.conf:1: warning: TOKEN without OIDC_SCOPE"}},
		{base + "OIDC_CLIENT_SECRET:" + open + "\nSSHD TOKEN GROUP users\n", []string{"r.conf:5: warning: OIDC_CLIENT_SECRET " + open + " is readable by group or others"}},
		{base, []string{"r.conf:1: warning: OIDC_ISSUER is set, but no rule has the option TOKEN"}},
	} {
		cfg := rules.Parse("r.conf", []byte(tt.conf), rules.ParseOptions{})
		got := checkOIDCSetup(cfg)
		if len(got) != len(tt.want) {
			t.Errorf("%q: %d problems, want %d: %v", tt.conf, len(got), len(tt.want), got)
			continue
		}
		for i, p := range got {
			if !strings.HasPrefix(p.String(), tt.want[i]) {
				t.Errorf("%q: problem %q, want %q…", tt.conf, p, tt.want[i])
			}
			if strings.Contains(p.String(), "s3cret") {
				t.Errorf("the secret in a problem: %s", p)
			}
		}
	}
}
