package checkconfig

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// write puts files (name -> text) in a fresh directory, root's as the
// module requires, and returns it.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	testenv.Root(t) // a config is read only when root's
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func check(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = Main(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestCheckMyConfig: check-my-config's exit status and the lines an admin reads,
// one config at a time.
func TestCheckMyConfig(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  []string // the files to check, by name in the directory
		mode  os.FileMode
		code  int
		want  []string // lines of the output, {dir} for the directory
		not   []string
	}{
		{name: "clean", files: map[string]string{"r.conf": "DEFAULT:CLOSE\nSSHD OPEN USER root\n"}, args: []string{"r.conf"},
			want: []string{"OK: 1 file(s), 1 rule(s), no problems"}},
		{name: "two files each alone", files: map[string]string{"a.conf": "SSHD OPEN USER root\n", "b.conf": "LOGIN OPEN USER root\nLOGIN CLOSE GROUP ALL\n"},
			args: []string{"a.conf", "b.conf"}, want: []string{"OK: 2 file(s), 3 rule(s), no problems"}},
		{name: "an ignored line", files: map[string]string{"r.conf": "DEFAULT:CLOSE\nSSHD OPNE USER alice\n"}, args: []string{"r.conf"}, code: 1,
			want: []string{`{dir}/r.conf:2: ignored: unknown option "OPNE"`, "    SSHD OPNE USER alice", "1 file(s), 0 rule(s), 1 problem(s)"},
			not:  []string{"ERRORS:", "REFUSED:"}},
		{name: "a broken CLOSE line refuses logins", files: map[string]string{"r.conf": "SSHD CLOSE USER ALL EXTRA\n"}, args: []string{"r.conf"}, code: 1,
			want: []string{"{dir}/r.conf:1: error: a rule has exactly 4 fields", "every SSHD login (sshd with a password or keyboard-interactive) is refused until this line is fixed",
				"ERRORS: 1 broken line(s) could have kept logins out"}},
		{name: "a mistyped service", files: map[string]string{"r.conf": "SHSD OPEN USER bob\n"}, args: []string{"r.conf"}, code: 1,
			want: []string{`{dir}/r.conf:1: warning: unknown service "SHSD": no /etc/pam.d/shsd on this machine`}},
		{name: "a host name", files: map[string]string{"r.conf": "LOGIN OPEN HOST example.org\n"}, args: []string{"r.conf"}, code: 1,
			want: []string{`{dir}/r.conf:1: warning: HOST entry "example.org" is a host name: it lets no login in`}},
		{name: "a plugin that does not compile", files: map[string]string{"r.conf": "SSHD broken USER alice\n", "plugins/broken.star": "def (\n"},
			args: []string{"r.conf"}, code: 1, want: []string{"{dir}/plugins/broken.star: warning: plugin broken does not load"}},
		{name: "a file others may write is refused", files: map[string]string{"r.conf": "SSHD OPEN USER root\n"}, args: []string{"r.conf"}, mode: 0o666, code: 1,
			want: []string{"{dir}/r.conf: refused: {dir}/r.conf is writable by group or others (mode 0666); fix: chmod go-w {dir}/r.conf",
				"REFUSED: every login is denied until each refused file is fixed"}},
		{name: "a file that is not there", files: map[string]string{}, args: []string{"gone.conf"}, code: 1,
			want: []string{"{dir}/gone.conf: refused: no such file", "REFUSED:"}},
		{name: "the mail files beside a main config", args: []string{"pam-accesscontrol.conf"}, code: 1,
			files: map[string]string{"pam-accesscontrol.conf": "SSHD OPEN USER root\n", "mail-notification.conf": "SSHD admin@example.org\nLOGIN Admin <a@b>\n"},
			want: []string{"{dir}/mail-notification.conf:2: ignored: want exactly two fields", "{dir}/mail-notification.conf: warning: names mail addresses, but no MAILSERVER is set",
				"2 file(s), 1 rule(s), 2 problem(s)"}},
		{name: "not beside another file", args: []string{"other.conf"},
			files: map[string]string{"other.conf": "SSHD OPEN USER root\n", "mail-notification.conf": "LOGIN Admin <a@b>\n"},
			want:  []string{"OK: 1 file(s), 1 rule(s), no problems"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, tt.files)
			var args []string
			for _, a := range tt.args {
				p := filepath.Join(dir, a)
				if tt.mode != 0 {
					os.Chmod(p, tt.mode)
				}
				args = append(args, p)
			}
			out, errOut, code := check(args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			lines := strings.Split(out, "\n")
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "{dir}", dir)
				if !hasLine(lines, w) {
					t.Errorf("no line with %q:\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("%q in:\n%s", w, out)
				}
			}
			if errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}
}

// hasLine reports whether a line holds want.
func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// TestJSON: --json is the Report, the broken line's refused logins
// included, and the same exit status.
func TestJSON(t *testing.T) {
	dir := write(t, map[string]string{"r.conf": "DEFAULT:CLOSE\nSSHD OPEN USER root\nSSHD CLOSE USER ALL EXTRA\n"})
	conf := filepath.Join(dir, "r.conf")
	out, _, code := check("--json", conf)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	var r Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	want := Problem{File: conf, Line: 3, Severity: "error", Text: "SSHD CLOSE USER ALL EXTRA",
		Refuses: "every SSHD login (sshd with a password or keyboard-interactive)"}
	if r.OK || r.Rules != 1 || len(r.Files) != 1 || r.Files[0] != conf || len(r.Problems) != 1 {
		t.Fatalf("report %+v", r)
	}
	got := r.Problems[0]
	got.Message = ""
	if got != want || !strings.HasPrefix(r.Problems[0].Message, "a rule has exactly 4 fields") {
		t.Errorf("problem %+v, want %+v", r.Problems[0], want)
	}

	os.WriteFile(conf, []byte("SSHD OPEN USER root\n"), 0o644)
	out, _, code = check("--json", conf)
	if code != 0 || !strings.Contains(out, `"ok": true`) || !strings.Contains(out, `"problems": []`) {
		t.Errorf("a clean config: exit %d\n%s", code, out)
	}
}

// TestCheckOrder: problems come in the order of the files, then lines,
// whichever check found them.
func TestCheckOrder(t *testing.T) {
	dir := write(t, map[string]string{"r.conf": "LOGIN OPEN HOST example.org\nSHSD OPEN USER bob\nSSHD OPNE USER alice\n"})
	r := Check([]string{filepath.Join(dir, "r.conf")})
	var lines []int
	for _, p := range r.Problems {
		lines = append(lines, p.Line)
	}
	if len(lines) != 3 || lines[0] != 1 || lines[1] != 2 || lines[2] != 3 {
		t.Errorf("lines %v, want 1 2 3: %+v", lines, r.Problems)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--colour"}, {"-json=maybe"}} {
		if _, errOut, code := check(args...); code != cli.ExitUsage || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want a usage error", args, code, errOut)
		}
	}
}
