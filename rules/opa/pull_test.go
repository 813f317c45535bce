package opa

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPullFile plays the policy server that was taken over: it asks for
// /etc/shadow, for links and ".." out of the allowed directory, for a file
// a user could have written, for a FIFO that would hang the login.
func TestPullFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own the files")
	}
	dir := t.TempDir()
	opa := filepath.Join(dir, "opa")
	os.Mkdir(opa, 0o755)
	write := func(path, text string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, mode)
	}
	host := filepath.Join(dir, "host_identity.json")
	write(host, `{"host_id":"frontend","n":12345678901234567890}`, 0o644)
	write(filepath.Join(opa, "a.json"), `{"a":1}`, 0o600)
	write(filepath.Join(opa, "bad.json"), `{"a":`, 0o644)
	write(filepath.Join(opa, "two.json"), `{} {}`, 0o644)
	write(filepath.Join(opa, "gw.json"), `{}`, 0o664)
	write(filepath.Join(opa, "user.json"), `{}`, 0o644)
	os.Chown(filepath.Join(opa, "user.json"), 1000, 1000)
	os.Symlink("/etc/shadow", filepath.Join(opa, "shadow.json"))
	os.Symlink(host, filepath.Join(opa, "host.json"))
	os.MkdirAll(filepath.Join(dir, "opa-evil"), 0o755)
	write(filepath.Join(dir, "opa-evil", "x.json"), `{}`, 0o644)
	syscall.Mkfifo(filepath.Join(opa, "fifo.json"), 0o644)
	userDir := filepath.Join(opa, "users")
	os.Mkdir(userDir, 0o777)
	os.Chmod(userDir, 0o777)
	write(filepath.Join(userDir, "x.json"), `{}`, 0o644)

	allowed := []string{host, opa + "/"}
	for _, tt := range []struct {
		path string
		want string // "" for read
	}{
		{host, ""},
		{filepath.Join(opa, "a.json"), ""},
		{"/etc/shadow", "not under OPA_PULL_FILES"},
		{filepath.Join(opa, "shadow.json"), "(/etc/shadow) is not under OPA_PULL_FILES"},
		{opa + strings.Repeat("/..", 20) + "/etc/shadow", "not under OPA_PULL_FILES"},
		{filepath.Join(opa, "host.json"), ""},
		{filepath.Join(dir, "opa-evil", "x.json"), "not under OPA_PULL_FILES"},
		{filepath.Join(opa, "gw.json"), "writable by group or others"},
		{filepath.Join(opa, "user.json"), "owned by uid 1000"},
		{filepath.Join(opa, "fifo.json"), "not a regular file"},
		{filepath.Join(opa, "bad.json"), "not JSON"},
		{filepath.Join(opa, "two.json"), "more than one JSON value"},
		{filepath.Join(opa, "missing.json"), "no such file"},
		{filepath.Join(userDir, "x.json"), "writable by group or others"},
		{"relative.json", "not an absolute path"},
		{opa, "not under OPA_PULL_FILES"},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			start := time.Now()
			v, err := PullFile(tt.path, allowed)
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if tt.path == filepath.Join(opa, "host.json") {
				// the link resolves to an allowed file: its content is
				// what the admin allowed, whatever name it is asked by
				if err != nil {
					t.Errorf("a link to an allowed file: %v", err)
				}
				return
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, %v; want an error saying %q", v, err, tt.want)
			}
		})
	}
	if v, _ := PullFile(host, allowed); v.(map[string]any)["n"].(interface{ String() string }).String() != "12345678901234567890" {
		t.Errorf("numbers lose precision: %v", v)
	}
	if _, err := PullFile(host, nil); err == nil || !strings.Contains(err.Error(), "allows no file") {
		t.Errorf("no OPA_PULL_FILES: %v", err)
	}
}
