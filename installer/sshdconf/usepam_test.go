package sshdconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsePAM(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		on    bool
		where string
		found bool
	}{
		{"no sshd", nil, false, "", false},
		{"Debian's", map[string]string{"sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n#UsePAM no\nUsePAM yes\n"}, true, "/etc/ssh/sshd_config:3", true},
		{"default", map[string]string{"sshd_config": "PasswordAuthentication yes\n"}, false, "", true},
		{"first value wins", map[string]string{"sshd_config": "UsePAM no\nUsePAM yes\n"}, false, "/etc/ssh/sshd_config:1", true},
		{"drop-in first", map[string]string{"sshd_config": "Include sshd_config.d/*.conf\nUsePAM yes\n", "sshd_config.d/10-no.conf": "usepam=no\n"},
			false, "/etc/ssh/sshd_config.d/10-no.conf:1", true},
		{"drop-ins in name order", map[string]string{"sshd_config": "Include sshd_config.d/*.conf\n",
			"sshd_config.d/20-no.conf": "UsePAM no\n", "sshd_config.d/10-yes.conf": "UsePAM\tyes\n"}, true, "/etc/ssh/sshd_config.d/10-yes.conf:1", true},
		{"not in a Match block", map[string]string{"sshd_config": "Match User x\n\tUsePAM yes\n"}, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range tt.files {
				p := filepath.Join(root, "etc/ssh", name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, found, err := UsePAM(root)
			if err != nil || found != tt.found || s.On != tt.on || s.Where != tt.where {
				t.Fatalf("UsePAM = %+v, found %v, %v; want on %v at %q, found %v", s, found, err, tt.on, tt.where, tt.found)
			}
		})
	}
}

func TestIncludeLoop(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/ssh"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/ssh/sshd_config"), []byte("Include sshd_config\n"), 0o644)
	if _, _, err := UsePAM(root); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("a loop of includes: %v", err)
	}
	if text, warn := Note(root); !warn || !strings.Contains(text, "cannot be read") {
		t.Errorf("Note = %q, %v", text, warn)
	}
}

func TestNote(t *testing.T) {
	root := t.TempDir()
	if text, warn := Note(root); text != "" || warn {
		t.Errorf("no sshd: %q, %v", text, warn)
	}
	os.MkdirAll(filepath.Join(root, "etc/ssh"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/ssh/sshd_config"), []byte("UsePAM no\n"), 0o644)
	if text, warn := Note(root); !warn || !strings.Contains(text, "no rule applies to sshd logins") {
		t.Errorf("UsePAM no: %q, %v", text, warn)
	}
	os.WriteFile(filepath.Join(root, "etc/ssh/sshd_config"), []byte("UsePAM yes\n"), 0o644)
	if text, warn := Note(root); warn || !strings.Contains(text, "No other sshd setting is needed") {
		t.Errorf("UsePAM yes: %q, %v", text, warn)
	}
}
