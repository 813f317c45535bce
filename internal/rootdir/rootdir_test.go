package rootdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	link := filepath.Join(base, "link")
	os.Symlink(mk("target", 0o700), link)
	tests := []struct {
		name, dir, want string
	}{
		{"root's, 0700", mk("private", 0o700), ""},
		{"root's, 0755", mk("readable", 0o755), ""},
		{"world-writable", mk("world", 0o777), "writable by group or others (-rwxrwxrwx): chmod go-w"},
		{"group-writable", mk("group", 0o770), "chmod go-w"},
		{"a symbolic link to a good one", link, "is not a directory"},
		{"a file", file, "is not a directory"},
		{"missing", filepath.Join(base, "missing"), "no such file"},
	}
	if os.Geteuid() == 0 {
		other := mk("other", 0o700)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, dir, want string }{"another user's", other, "not owned by root (uid 65534): chown root"})
	}
	for _, tt := range tests {
		err := Check(tt.dir)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.dir)):
			t.Errorf("%s: err = %v, want one naming %s with %q", tt.name, err, tt.dir, tt.want)
		}
	}
}
