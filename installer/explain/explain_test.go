package explain

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// demo is examples/demo's passwd and group as NSS would give them.
type demo struct{}

var demoGroups = map[string][]string{
	"root": {"root"}, "alice": {"alice", "users", "admins"}, "bob": {"users"},
	"carol": {"users", "lp"}, "dave": {"dave"},
}

func (demo) UserName(name string) (string, bool, error) {
	_, ok := demoGroups[name]
	return name, ok, nil
}

func (demo) UserGroups(user string) ([]string, error) {
	g, ok := demoGroups[user]
	if !ok {
		return nil, fmt.Errorf("unknown user %q", user)
	}
	return g, nil
}

// sessions stands in for systemd-logind.
type sessions []rules.Session

func (s sessions) Sessions(context.Context) ([]rules.Session, error) { return s, nil }

// fixture copies the worked example and the demo's session lists into a
// directory of root's, as the module requires.
func fixture(t *testing.T) string {
	t.Helper()
	testenv.Root(t)
	dir := t.TempDir()
	for _, f := range []string{"pam-accesscontrol.conf", "demo/sessions-carol.json", "demo/sessions-carol-ssh.json", "demo/sessions-none.json"} {
		data, err := os.ReadFile(filepath.Join("../../examples", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRun: the worked example of docs/rules.md, in process: the exit status,
// the verdict on the first line, the line that decided it, and a pending
// verdict's note.
func TestRun(t *testing.T) {
	dir := fixture(t)
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	carol := sessions{{User: "carol", Service: "sddm", Class: "user", State: "active"}}
	// --sessions files: class defaults to user and state to active;
	// closing sessions and classes other than user* do not count
	for name, text := range map[string]string{
		"sessions-carol-defaults.json": `[{"user": "carol", "service": "sddm"}]`,
		"sessions-carol-closing.json":  `[{"user": "carol", "service": "sddm", "state": "closing"}]`,
		"sessions-carol-greeter.json":  `[{"user": "carol", "service": "sddm", "class": "greeter"}]`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		login     rules.Login
		sessions  string // a file in dir; "" for the stand-in of logind
		logind    sessions
		verdict   string
		code      int
		decidedBy string // "pam-accesscontrol.conf:N", or "error"
	}{
		{"alice by password from 10.66.1.2", rules.Login{Service: "sshd", User: "alice", RHost: "10.66.1.2"}, "", nil, "CLOSE", 1, "pam-accesscontrol.conf:5"},
		{"alice by key from anywhere", rules.Login{Service: "sshd", User: "alice", RHost: "198.51.100.4", Auth: rules.AuthKey}, "", nil, "OPEN", 0, "pam-accesscontrol.conf:4"},
		{"carol by key", rules.Login{Service: "sshd", User: "carol", RHost: "192.0.2.7", Auth: rules.AuthKey}, "", nil, "ASK", 2, "pam-accesscontrol.conf:6"},
		{"carol by key, approved session live", rules.Login{Service: "sshd", User: "carol", RHost: "192.0.2.7", Auth: rules.AuthKey},
			"sessions-carol-ssh.json", nil, "OPEN", 0, "pam-accesscontrol.conf:6"},
		{"carol by password: ASK is for SSHD-KEY only", rules.Login{Service: "sshd", User: "carol", RHost: "192.0.2.7"}, "", nil, "CLOSE", 1, "pam-accesscontrol.conf:3"},
		{"bob at sddm while carol is logged in (file)", rules.Login{Service: "sddm", User: "bob"}, "sessions-carol.json", nil, "CLOSE", 1, "pam-accesscontrol.conf:8"},
		{"bob at sddm while carol is logged in (logind)", rules.Login{Service: "sddm", User: "bob"}, "", carol, "CLOSE", 1, "pam-accesscontrol.conf:8"},
		{"bob at sddm alone", rules.Login{Service: "sddm", User: "bob"}, "sessions-none.json", nil, "OPEN", 0, "pam-accesscontrol.conf:7"},
		{"carol's session without class and state counts", rules.Login{Service: "sddm", User: "bob"}, "sessions-carol-defaults.json", nil, "CLOSE", 1, "pam-accesscontrol.conf:8"},
		{"carol's closing session does not count", rules.Login{Service: "sddm", User: "bob"}, "sessions-carol-closing.json", nil, "OPEN", 0, "pam-accesscontrol.conf:7"},
		{"a greeter session does not count", rules.Login{Service: "sddm", User: "bob"}, "sessions-carol-greeter.json", nil, "OPEN", 0, "pam-accesscontrol.conf:7"},
		{"dave at the console", rules.Login{Service: "login", User: "dave"}, "", nil, "CLOSE", 1, "pam-accesscontrol.conf:3"},
		{"Alice is not alice", rules.Login{Service: "sshd", User: "Alice", Auth: rules.AuthKey}, "", nil, "CLOSE", 1, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Conf: conf, Login: tt.login, Users: demo{}, Groups: demo{}, Sessions: tt.logind}
			if o.Sessions == nil {
				o.Sessions = sessions{}
			}
			if tt.sessions != "" {
				o.SessionsFile = filepath.Join(dir, tt.sessions)
			}
			var out, errOut bytes.Buffer
			code := Run(o, &out, &errOut)
			lines := strings.Split(out.String(), "\n")
			if code != tt.code || lines[0] != tt.verdict {
				t.Fatalf("exit %d, first line %q; want %d, %q\n%s%s", code, lines[0], tt.code, tt.verdict, out.String(), errOut.String())
			}
			by := regexp.MustCompile(`^decided by: (\S+)`).FindStringSubmatch(lines[1])
			switch {
			case by == nil:
				t.Fatalf("second line %q is not 'decided by'", lines[1])
			case tt.decidedBy == "error":
				if lines[1] != "decided by: an error; the login fails closed" {
					t.Fatalf("decided by %q, want an error", lines[1])
				}
			case by[1] != filepath.Join(dir, tt.decidedBy):
				t.Fatalf("decided by %s, want %s\n%s", by[1], tt.decidedBy, out.String())
			}
			if asked := strings.HasSuffix(lines[2], "; the desktop owner is asked"); asked != (tt.verdict == "ASK") {
				t.Errorf("reason line %q for %s", lines[2], tt.verdict)
			}
			if lines[3] != "trace:" {
				t.Errorf("fourth line %q, want the trace", lines[3])
			}
		})
	}
}

// TestRunTrace: the trace names each rule of the service with its line.
func TestRunTrace(t *testing.T) {
	dir := fixture(t)
	var out bytes.Buffer
	Run(Options{Conf: filepath.Join(dir, "pam-accesscontrol.conf"), Login: rules.Login{Service: "sddm", User: "bob"},
		SessionsFile: filepath.Join(dir, "sessions-carol.json"), Users: demo{}, Groups: demo{}}, &out, &bytes.Buffer{})
	for _, want := range []string{
		"reason: NUMBER limit reached: group \"users\" allows 1 user(s), 2 with this login (\"bob\", \"carol\")",
		"pam-accesscontrol.conf:7  SDDM OPEN GROUP users: applies, \"bob\" is in group \"users\"",
		"pam-accesscontrol.conf:8  NUMBER users:1: full, 2 user(s) with \"bob\" counted: \"bob\", \"carol\"",
		"3 rule(s) are for other services",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunConfigs: where the decision comes from when no rule makes it,
// and the note about ignored lines.
func TestRunConfigs(t *testing.T) {
	testenv.Root(t)
	for _, tt := range []struct {
		name, conf string
		mode       os.FileMode
		code       int
		want       []string
		note       string // on stderr
	}{
		{name: "the config's DEFAULT", conf: "# nothing for sshd\nDEFAULT:OPEN\n", code: 0,
			want: []string{"OPEN", "decided by: {conf}:2  DEFAULT:OPEN"}},
		{name: "an ignored line", conf: "DEFAULT:CLOSE\nSSHD OPNE USER alice\n", code: 1,
			want: []string{"CLOSE", "decided by: {conf}:1  DEFAULT:CLOSE"},
			note: "note: the config has 1 problem(s) that change what it means; run pam-accesscontrol check-my-config"},
		{name: "a broken line", conf: "DEFAULT:OPEN\nSSHD CLOSE USER ALL EXTRA\n", code: 1,
			want: []string{"CLOSE", "decided by: {conf}:2  SSHD CLOSE USER ALL EXTRA  (a broken line: every SSHD login"},
			note: "note: the config has 1 problem(s) that change what it means; run pam-accesscontrol check-my-config"},
		{name: "a TOKEN rule", conf: "OIDC_ISSUER:https://sso.example.com\nOIDC_CLIENT_ID:pam\nOIDC_CLIENT_SECRET:/etc/s\nOIDC_SCOPE:pam\n" +
			"SSHD TOKEN GROUP users\n", code: 2,
			want: []string{"TOKEN\n", "decided by: {conf}:5  SSHD TOKEN GROUP users", "then: OPEN, once the password is a valid token",
				"token: checked with https://sso.example.com as client pam; scope pam; sub must be the user; cached 1m0s; provider down: OIDC_FALLBACK:CLOSE"}},
		{name: "a refused config", conf: "DEFAULT:OPEN\n", mode: 0o664, code: 1,
			want: []string{"CLOSE", "decided by: an error; the login fails closed", "writable by group or others"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "r.conf")
			if err := os.WriteFile(conf, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.mode != 0 {
				os.Chmod(conf, tt.mode)
			}
			var out, errOut bytes.Buffer
			code := Run(Options{Conf: conf, Login: rules.Login{Service: "sshd", User: "alice"}, Users: demo{}, Groups: demo{}, Sessions: sessions{}},
				&out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, out.String())
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "{conf}", conf); !strings.Contains(out.String(), w) {
					t.Errorf("no %q in\n%s", w, out.String())
				}
			}
			if strings.TrimSpace(errOut.String()) != tt.note {
				t.Errorf("stderr %q, want %q", errOut.String(), tt.note)
			}
		})
	}
}

// TestMainUsage: a command line that cannot be run is exit 64 with a
// line on stderr, and nothing on stdout.
func TestMainUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"user": "carol", "colour": "red"}]`), 0o644)
	noUser := filepath.Join(dir, "nouser.json")
	os.WriteFile(noUser, []byte(`[{"service": "sshd"}]`), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", "alice"}, "explain: --service and --user are required"},
		{[]string{"--service", "sshd"}, "explain: --service and --user are required"},
		{[]string{"--service", "sshd", "--user", "alice", "extra"}, "nothing else may follow the options"},
		{[]string{"--service", "sshd", "--user", "alice", "--auth", "telepathy"}, `explain: --auth is password or key, not "telepathy"`},
		{[]string{"--service", "sshd", "--user", "alice", "--sessions", filepath.Join(dir, "none.json")}, "explain: open " + filepath.Join(dir, "none.json")},
		{[]string{"--service", "sshd", "--user", "alice", "--sessions", bad}, `json: unknown field "colour"`},
		{[]string{"--service", "sshd", "--user", "alice", "--sessions", noUser}, "session 1 has no user"},
		{[]string{"--service", "sshd", "--user", "alice", "--opa-answer", "novalue"}, `want KEY=VALUE, not "novalue"`},
		{[]string{"--colour"}, "flag provided but not defined: -colour"},
	} {
		var out, errOut bytes.Buffer
		if code := Main(tt.args, &out, &errOut); code != cli.ExitUsage || out.Len() != 0 || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", tt.args, code, out.String(), errOut.String(), cli.ExitUsage, tt.want)
		}
	}
}

func TestOPAAnswers(t *testing.T) {
	var a opaAnswers
	if got := a.all(); got == nil || len(got) != 0 {
		t.Errorf("no answers: %v, want an empty map", got)
	}
	for _, s := range []string{"otp=123456", "note=a=b", "empty="} {
		if err := a.Set(s); err != nil {
			t.Errorf("Set(%q): %v", s, err)
		}
	}
	if got := a.all(); got["otp"] != "123456" || got["note"] != "a=b" || got["empty"] != "" || len(got) != 3 {
		t.Errorf("answers %v", got)
	}
	for _, s := range []string{"novalue", "=x"} {
		if a.Set(s) == nil {
			t.Errorf("Set(%q) taken", s)
		}
	}
}

// TestRunServerGroup: explain shows the server group OPA is told, and
// where it was set.
func TestRunServerGroup(t *testing.T) {
	dir := t.TempDir()
	for src, want := range map[string]string{
		"DEFAULT:OPEN\n":                      "server group: default (built-in)",
		"DEFAULT:OPEN\nSERVER_GROUP:web-eu\n": "server group: web-eu (" + filepath.Join(dir, "c.conf") + ":2)",
	} {
		conf := filepath.Join(dir, "c.conf")
		if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		Run(Options{Conf: conf, Login: rules.Login{Service: "sshd", User: "bob"}, Users: demo{}, Groups: demo{}}, &out, &bytes.Buffer{})
		if !strings.Contains(out.String(), want) {
			t.Errorf("%q: explain lacks %q:\n%s", src, want, out.String())
		}
	}
}
