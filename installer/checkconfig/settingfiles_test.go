package checkconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestCheckWebhookSecret: a WEBHOOK_SECRET others may read is reported,
// as the deliverer refuses it (events would wait in the outbox), and the
// warning does not show the secret.
func TestCheckWebhookSecret(t *testing.T) {
	testenv.Root(t) // the file must be root's
	dir := t.TempDir()
	for _, tt := range []struct {
		mode os.FileMode
		want string
	}{
		{0o600, ""},
		{0o640, "is readable by group or others (mode 0640)"},
		{0o644, "is readable by group or others (mode 0644)"},
	} {
		key := filepath.Join(dir, "webhook.key")
		if err := os.WriteFile(key, []byte("k3y-s3cret\n"), tt.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(key, tt.mode); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(dir, "r.conf")
		cfg := rules.Parse(conf, []byte("WEBHOOK:https://hooks.example.com/pam\nWEBHOOK_SECRET:"+key+"\n"), rules.ParseOptions{})
		cfg.Files = []string{conf}
		got := checkSettingFiles(cfg)
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("mode %04o: %v", tt.mode, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0].String(), tt.want) || !strings.Contains(got[0].String(), "no event is posted")):
			t.Errorf("mode %04o: %v, want one warning with %q", tt.mode, got, tt.want)
		}
		for _, p := range got {
			if strings.Contains(p.String(), "s3cret") {
				t.Errorf("the secret in a problem: %s", p)
			}
		}
	}
}
