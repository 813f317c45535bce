package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// runCLI runs the command and returns its stdout, stderr and exit status.
func runCLI(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := command(cli, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := exitStatus(t, cmd.Run())
	return stdout.String(), stderr.String(), code
}

// exitStatus is a finished command's exit status; an error other than a
// non-zero exit (the program could not start) fails the test.
func exitStatus(t testing.TB, err error) int {
	t.Helper()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	must(t, err)
	return 0
}

// TestCheckBrokenFile: every mistake of examples/broken.conf is found, on
// its line, and the good lines still count.
func TestCheckBrokenFile(t *testing.T) {
	out, _, code := runCLI(t, "..", nil, "check-my-config", "examples/broken.conf")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	want := []string{
		"3: ignored: DEFAULT must be OPEN or CLOSE",
		"4: ignored: a setting is one word KEY:VALUE",
		"5: ignored: DEBUG must be TRUE or FALSE",
		"6: ignored: ASK_TIMEOUT must be a whole number",
		"7: ignored: unknown setting \"COLOUR\"",
		"8: ignored: a rule has exactly 4 fields",
		"9: ignored: a rule has exactly 4 fields",
		"10: ignored: unknown option \"OPNE\"",
		"11: ignored: unknown target \"USR\"",
		"12: error: NUMBER entry \"users\" needs a limit",
		"13: error: NUMBER entry \"users:two\"",
		"14: error: NUMBER limits groups",
		"15: error: HOST entry \"10.0.0.0/33\"",
		"15: warning: HOST entry \"10.1.2.3/16\" has host bits set",
		"16: warning: PIN mails a PIN to the address in",
		"17: warning: unknown service \"SHSD\"",
		"18: warning: USER ALL names a user called ALL",
		"19: ignored: \"SSH/D\" is not a PAM service name",
	}
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "examples/broken.conf:"); ok {
			got = append(got, rest)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: %q, want it to start with %q", i+1, got[i], want[i])
		}
	}
	if !strings.Contains(out, "\n    SSHD OPEN USER bob, alice\n") {
		t.Errorf("the offending line is not shown under its problem:\n%s", out)
	}
	if !strings.Contains(out, "1 file(s), 6 rule(s), 18 problem(s)\nERRORS: 4 broken line(s) could have kept logins out") {
		t.Errorf("summary missing or wrong:\n%s", out)
	}
	if n := strings.Count(out, "every SSHD login (sshd with a password or keyboard-interactive) is refused until this line is fixed"); n != 4 {
		t.Errorf("%d lines say which logins they refuse, want 4 (12 to 15):\n%s", n, out)
	}
}

// TestCheckBrokenLinesRefuse (issue 21): check-my-config reports a broken
// line that could have kept logins out as an error, with file:line and
// which logins are refused until it is fixed; a broken OPEN line stays
// "ignored". explain shows the refusal and the line.
func TestCheckBrokenLinesRefuse(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	must(t, os.WriteFile(conf, []byte("DEFAULT:OPEN\nSSHD CLOSE USER alice bob\nLOGIN OPEN GROUP ALL\nSHHD CLOSE USER x y\n"+
		"SSHD OPEN USER carol dave\nSSH/D ASK GROUP lp\n"), 0o644))
	out, _, code := runCLI(t, dir, nil, "check-my-config", conf)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		conf + ":2: error: a rule has exactly 4 fields (SERVICE OPTION TARGET LIST), this line has 5; list entries are separated by commas " +
			"without blanks; a broken CLOSE rule could have kept logins out: every SSHD login (sshd with a password or keyboard-interactive) " +
			"is refused until this line is fixed\n    SSHD CLOSE USER alice bob\n",
		conf + ":4: error: a rule has exactly 4 fields (SERVICE OPTION TARGET LIST), this line has 5; list entries are separated by commas " +
			"without blanks; a broken CLOSE rule could have kept logins out: every login of service SHHD is refused until this line is fixed\n",
		conf + `:4: warning: unknown service "SHHD": no /etc/pam.d/shhd on this machine and not a common PAM service (a typo?); ` +
			"so this broken line refuses no login here\n",
		conf + ":5: ignored: a rule has exactly 4 fields",
		conf + `:6: error: "SSH/D" is not a PAM service name or one of ALL, SSH, SSHD-KEY, XDM, TTY; a broken ASK rule could have kept logins out, ` +
			`and its SERVICE "SSH/D" cannot be read: every login is refused until this line is fixed` + "\n",
		"ERRORS: 3 broken line(s) could have kept logins out: the logins each one names are refused until it is fixed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	js, _, _ := runCLI(t, dir, nil, "check-my-config", "--json", conf)
	var report struct {
		Problems []struct {
			Line                       int
			Severity, Message, Refuses string
		}
	}
	must(t, json.Unmarshal([]byte(js), &report))
	if p := report.Problems[0]; p.Line != 2 || p.Severity != "error" || !strings.Contains(p.Message, "every SSHD login") ||
		p.Refuses != "every SSHD login (sshd with a password or keyboard-interactive)" {
		t.Errorf("JSON problem %+v", p)
	}

	// explain: the sshd login is refused by line 2, the console login
	// follows the rules
	must(t, os.WriteFile(conf, []byte("DEFAULT:OPEN\nSSHD CLOSE USER alice bob\nLOGIN OPEN GROUP ALL\n"), 0o644))
	out, _, code = runCLI(t, dir, nil, "explain", "--conf", conf, "--service", "sshd", "--user", "carol")
	if code != 1 || !strings.HasPrefix(out, "CLOSE\ndecided by: "+conf+":2  SSHD CLOSE USER alice bob  (a broken line: every SSHD login") ||
		!strings.Contains(out, conf+":2  broken line, failing closed: ") {
		t.Errorf("explain sshd: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, dir, nil, "explain", "--conf", conf, "--service", "login", "--user", "carol")
	if code != 0 || !strings.HasPrefix(out, "OPEN\ndecided by: "+conf+":3  LOGIN OPEN GROUP ALL") {
		t.Errorf("explain login: exit %d\n%s", code, out)
	}
}

func TestCheckJSON(t *testing.T) {
	out, _, code := runCLI(t, "..", nil, "check-my-config", "--json", "examples/broken.conf")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var report struct {
		OK       bool
		Files    []string
		Rules    int
		Problems []struct {
			File, Severity, Message, Text string
			Line                          int
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if report.OK || report.Rules != 6 || len(report.Problems) != 18 || len(report.Files) != 1 {
		t.Fatalf("report: ok=%v rules=%d problems=%d files=%v", report.OK, report.Rules, len(report.Problems), report.Files)
	}
	p := report.Problems[5]
	if p.File != "examples/broken.conf" || p.Line != 8 || p.Severity != "ignored" || p.Text != "SSHD OPEN USER bob, alice" {
		t.Errorf("problem 6 = %+v", p)
	}
}

func TestCheckClean(t *testing.T) {
	out, _, code := runCLI(t, "..", nil, "check-my-config", "examples/pam-accesscontrol.conf")
	if code != 0 || !strings.HasPrefix(out, "OK: 1 file(s), 5 rule(s), no problems") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// An untrusted file is refused: the PAM module would deny every login.
func TestCheckInsecureFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "world-writable.conf")
	if err := os.WriteFile(conf, []byte("DEFAULT:OPEN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(conf, 0o666)
	out, _, code := runCLI(t, dir, nil, "check-my-config", conf)
	if code != 1 || !strings.Contains(out, conf+": refused:") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if os.Geteuid() == 0 && !strings.Contains(out, "chmod go-w "+conf) {
		t.Errorf("no fix named:\n%s", out)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"no-such-verb"},
		{"explain", "--user", "alice"},
		{"explain", "--service", "sshd", "--user", "alice", "--auth", "telepathy"},
		{"explain", "--service", "sshd", "--user", "alice", "--sessions", "/nonexistent.json"},
		{"check-my-config", "--colour"},
		{"enroll"},
		{"enroll", "--status", "--refresh"},
		{"enroll", "--issuer", "https://sso.example.org"},
	} {
		_, _, code := runCLI(t, "..", nil, args...)
		if code != 64 {
			t.Errorf("%q: exit %d, want 64 (usage)", args, code)
		}
	}
}

// explainFixture copies the worked example and the demo's session lists
// into a root-owned directory, as the module requires.
func explainFixture(t *testing.T) (dir string, env []string) {
	testenv.Root(t)
	dir = t.TempDir()
	for _, f := range []string{"pam-accesscontrol.conf", "demo/sessions-carol.json", "demo/sessions-carol-ssh.json", "demo/sessions-none.json"} {
		data, err := os.ReadFile(filepath.Join("../examples", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, testenv.NSSWrapperEnv(t, "../examples/demo/passwd", "../examples/demo/group")
}

// TestExplainWorkedExample: the worked example of docs/rules.md through the
// real command, with the example users resolved through NSS (nss_wrapper).
func TestExplainWorkedExample(t *testing.T) {
	dir, env := explainFixture(t)
	tests := []struct {
		name      string
		args      []string
		verdict   string
		code      int
		decidedBy string // "pam-accesscontrol.conf:N" or a DEFAULT form
	}{
		{"alice by password from 10.66.1.2", []string{"--service", "sshd", "--user", "alice", "--rhost", "10.66.1.2"}, "CLOSE", 1, "pam-accesscontrol.conf:5"},
		{"alice by key from anywhere", []string{"--service", "sshd", "--user", "alice", "--rhost", "198.51.100.4", "--auth", "key"}, "OPEN", 0, "pam-accesscontrol.conf:4"},
		{"alice by password from elsewhere", []string{"--service", "sshd", "--user", "alice", "--rhost", "198.51.100.4"}, "OPEN", 0, "pam-accesscontrol.conf:4"},
		{"carol by key", []string{"--service", "sshd", "--user", "carol", "--rhost", "192.0.2.7", "--auth", "key"}, "ASK", 2, "pam-accesscontrol.conf:6"},
		{"carol by key, approved session live", []string{"--service", "sshd", "--user", "carol", "--rhost", "192.0.2.7", "--auth", "key", "--sessions", "sessions-carol-ssh.json"}, "OPEN", 0, "pam-accesscontrol.conf:6"},
		{"carol by key from another host", []string{"--service", "sshd", "--user", "carol", "--rhost", "192.0.2.8", "--auth", "key", "--sessions", "sessions-carol-ssh.json"}, "ASK", 2, "pam-accesscontrol.conf:6"},
		{"carol by password: ASK is for SSHD-KEY only", []string{"--service", "sshd", "--user", "carol", "--rhost", "192.0.2.7"}, "CLOSE", 1, "pam-accesscontrol.conf:3"},
		{"bob at sddm while carol is logged in", []string{"--service", "sddm", "--user", "bob", "--sessions", "sessions-carol.json"}, "CLOSE", 1, "pam-accesscontrol.conf:8"},
		{"bob at sddm alone", []string{"--service", "sddm", "--user", "bob", "--sessions", "sessions-none.json"}, "OPEN", 0, "pam-accesscontrol.conf:7"},
		{"carol at sddm while she is logged in", []string{"--service", "SDDM", "--user", "carol", "--sessions", "sessions-carol.json"}, "OPEN", 0, "pam-accesscontrol.conf:7"},
		{"dave at the console", []string{"--service", "login", "--user", "dave"}, "CLOSE", 1, "pam-accesscontrol.conf:3"},
		{"Alice is not alice", []string{"--service", "sshd", "--user", "Alice", "--auth", "key"}, "CLOSE", 1, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, dir, env, append([]string{"explain", "--conf", "pam-accesscontrol.conf"}, tt.args...)...)
			lines := strings.Split(out, "\n")
			if code != tt.code || lines[0] != tt.verdict {
				t.Fatalf("exit %d, first line %q; want %d, %q\n%s%s", code, lines[0], tt.code, tt.verdict, out, stderr)
			}
			by := regexp.MustCompile(`^decided by: (\S+)`).FindStringSubmatch(lines[1])
			if by == nil {
				t.Fatalf("second line %q is not 'decided by'", lines[1])
			}
			if tt.decidedBy == "error" {
				if !strings.Contains(lines[1], "an error") {
					t.Fatalf("decided by %q, want an error", lines[1])
				}
				return
			}
			if by[1] != tt.decidedBy {
				t.Fatalf("decided by %s, want %s\n%s", by[1], tt.decidedBy, out)
			}
			// a pending verdict says who completes it
			if asked := strings.HasSuffix(lines[2], "; the desktop owner is asked"); asked != (tt.verdict == "ASK") {
				t.Errorf("reason line %q for %s", lines[2], tt.verdict)
			}
		})
	}
}

// TestExplainTrace: the trace names every rule of the service with its
// line and says why it did or did not apply.
func TestExplainTrace(t *testing.T) {
	dir, env := explainFixture(t)
	out, _, _ := runCLI(t, dir, env, "explain", "--conf", "pam-accesscontrol.conf",
		"--service", "sddm", "--user", "bob", "--sessions", "sessions-carol.json")
	for _, want := range []string{
		"reason: NUMBER limit reached: group \"users\" allows 1 user(s), 2 with this login (\"bob\", \"carol\")",
		"pam-accesscontrol.conf:7  SDDM OPEN GROUP users: applies, \"bob\" is in group \"users\"",
		"pam-accesscontrol.conf:8  NUMBER users:1: full, 2 user(s) with \"bob\" counted: \"bob\", \"carol\"",
		"3 rule(s) are for other services",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

// A refused config denies, and explain says so rather than deciding from it.
func TestExplainRefusedConfig(t *testing.T) {
	dir, env := explainFixture(t)
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	os.Chmod(conf, 0o664)
	out, _, code := runCLI(t, dir, env, "explain", "--conf", conf, "--service", "sshd", "--user", "alice", "--auth", "key")
	if code != 1 || !strings.HasPrefix(out, "CLOSE\ndecided by: an error") || !strings.Contains(out, "writable by group or others") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestExplainAsksLogind: without --sessions, explain counts the sessions
// systemd-logind reports, as the module does.
func TestExplainAsksLogind(t *testing.T) {
	dir, env := explainFixture(t)
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testenv.Missing(t, "dbus-daemon")
	}
	bus, err := testbus.StartBus()
	must(t, err)
	defer bus.Stop()
	fake, err := logindtest.New(bus.Address)
	must(t, err)
	defer fake.Close()
	env = append(env, "DBUS_SYSTEM_BUS_ADDRESS="+bus.Address)
	args := []string{"explain", "--conf", "pam-accesscontrol.conf", "--service", "sddm", "--user", "bob"}
	if out, _, code := runCLI(t, dir, env, args...); code != 0 {
		t.Fatalf("nobody logged in: exit %d\n%s", code, out)
	}
	must(t, fake.Add(logindtest.Session{ID: "4", User: "carol", Service: "sddm", Type: "x11", Class: "user", State: "active", Seat: "seat0"}))
	out, _, code := runCLI(t, dir, env, args...)
	if code != 1 || !strings.Contains(out, `2 user(s) with "bob" counted: "bob", "carol"`) {
		t.Fatalf("carol logged in: exit %d\n%s", code, out)
	}
}

// TestCheckMailFiles: check-my-config reads the mail files beside a main
// config: their bad lines, recipients without a relay, and a PIN rule
// without a mapping.
func TestCheckMailFiles(t *testing.T) {
	testenv.Root(t) // the files are checked for root's ownership
	dir := t.TempDir()
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	must(t, os.WriteFile(conf, []byte("SSHD PINGPG USER alice\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "mail-notification.conf"), []byte("SSHD admin@example.org\nLOGIN Admin <a@b>\n"), 0o644))
	out, _, code := runCLI(t, dir, nil, "check-my-config", conf)
	for _, want := range []string{
		"pam-accesscontrol.conf:1: warning: PINGPG mails a PIN to the address in " + filepath.Join(dir, "login-mail-mapping.conf") + ", which does not exist",
		"mail-notification.conf:2: ignored: want exactly two fields",
		"mail-notification.conf: warning: names mail addresses, but no MAILSERVER is set",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}

	// all set up: nothing to report
	must(t, os.WriteFile(conf, []byte("MAILSERVER:mail.example.org\nSSHD PINGPG USER alice\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "mail-notification.conf"), []byte("SSHD admin@example.org\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "login-mail-mapping.conf"), []byte("alice alice@example.org\n"), 0o644))
	if out, _, code := runCLI(t, dir, nil, "check-my-config", conf); code != 0 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	// a mapping others may write is not used
	must(t, os.Chmod(filepath.Join(dir, "login-mail-mapping.conf"), 0o666))
	out, _, _ = runCLI(t, dir, nil, "check-my-config", conf)
	if !strings.Contains(out, "login-mail-mapping.conf: warning: not used:") || !strings.Contains(out, "PINGPG:") {
		t.Errorf("a writable mapping:\n%s", out)
	}
}

// TestCheckSettingFiles: check-my-config reads the files settings name:
// a missing key, a CA bundle others may write, a file that is not PEM, a
// certificate without its key.
func TestCheckSettingFiles(t *testing.T) {
	testenv.Root(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	notPEM := filepath.Join(dir, "ca.pem")
	writable := filepath.Join(dir, "writable.pem")
	must(t, os.WriteFile(notPEM, []byte("hello\n"), 0o644))
	must(t, os.WriteFile(writable, []byte("hello\n"), 0o644))
	must(t, os.Chmod(writable, 0o666))
	must(t, os.WriteFile(conf, []byte("WEBHOOK:http://127.0.0.1:9/\nWEBHOOK_SECRET:"+filepath.Join(dir, "missing.key")+
		"\nSYSLOG_SERVER:tls://logs.example.org\nSYSLOG_CA:"+notPEM+"\nSYSLOG_CERT:"+notPEM+"\nMAIL_CA:"+writable+"\n"), 0o644))
	out, _, code := runCLI(t, dir, nil, "check-my-config", conf)
	for _, want := range []string{
		"warning: WEBHOOK_SECRET lstat " + filepath.Join(dir, "missing.key") + ": no such file or directory: no event is posted",
		"warning: SYSLOG_CA: " + notPEM + ": no PEM certificate in it: no event reaches the syslog server",
		"warning: MAIL_CA " + writable,
		"warning: SYSLOG_CERT and SYSLOG_KEY go together",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
}
