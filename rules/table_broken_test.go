package rules_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// brokenLogins are the logins each case decides, by name.
var brokenLogins = []struct {
	name  string
	login rules.Login
}{
	{"sshd", login("sshd", "alice", "", pw)},
	{"sshd-key", login("sshd", "alice", "", key)},
	{"login", login("login", "alice", "", no)},
	{"sddm", login("sddm", "alice", "", no)},
}

var everyLogin = []string{"sshd", "sshd-key", "login", "sddm"}

// TestBrokenLinesFailClosed (issue 21): a broken line that could have
// kept logins out refuses the logins of the services it names (of every
// service when its SERVICE cannot be read), naming its file:line; other
// services follow the rules. A broken line that could only have let
// logins in, or whose OPTION is an unknown word, stays ignored. The config
// is DEFAULT:OPEN, so an ignored CLOSE line would let everyone in: the
// attacker's case.
func TestBrokenLinesFailClosed(t *testing.T) {
	tests := []struct {
		name   string
		line   string   // line 2, after DEFAULT:OPEN
		locked []string // the logins refused by it
		kept   bool     // the rule is kept (a broken entry of a good rule)
	}{
		{"3 fields", "SSHD CLOSE USER", []string{"sshd"}, false},
		{"bad target", "SSHD CLOSE USRE alice", []string{"sshd"}, false},
		{"5 fields: a blank in the list", "SSHD CLOSE USER alice bob", []string{"sshd"}, false},
		{"2 fields", "SSHD CLOSE", []string{"sshd"}, false},
		{"empty list", "SSHD CLOSE GROUP ,,,", []string{"sshd"}, false},
		{"group name with a colon", "SSHD CLOSE GROUP admins,users:x", []string{"sshd"}, true},
		{"user name with a colon", "TTY CLOSE USER alice:bob", []string{"login"}, true},
		{"bad NUMBER limit", "SSHD NUMBER GROUP users:x", []string{"sshd"}, false},
		{"one bad NUMBER limit of two", "SSHD NUMBER GROUP users:x,lp:1", []string{"sshd"}, true},
		{"NUMBER of users", "SSHD NUMBER USER bob:2", []string{"sshd"}, false},
		{"bad HOST entry", "SSHD CLOSE HOST 10.0.0.0/33", []string{"sshd"}, false},
		{"one bad HOST entry of two", "SSHD CLOSE HOST 10.0.0.0/33,10.1.0.0/16", []string{"sshd"}, true},
		{"ASK", "SSHD ASK USER alice bob", []string{"sshd"}, false},
		{"PIN", "SSHD PIN USER", []string{"sshd"}, false},
		{"PINGPG", "SSHD pingpg USR alice", []string{"sshd"}, false},
		{"OPA 3 fields", "SSHD OPA GROUP", []string{"sshd"}, false},
		{"OPA bad HOST", "SSHD OPA HOST 10.0.0.0/8,not_a*host", []string{"sshd"}, true},
		{"a typing slip of CLOSE", "SSHD CLSOE USER alice", []string{"sshd"}, false},
		{"a typing slip of NUMBER", "SSHD NUMBR GROUP users:1", []string{"sshd"}, false},
		{"SSH: both kinds of sshd login", "SSH CLOSE USER alice bob", []string{"sshd", "sshd-key"}, false},
		{"SSHD-KEY: key logins only", "SSHD-KEY CLOSE USER alice bob", []string{"sshd-key"}, false},
		{"XDM", "XDM CLOSE USER alice bob", []string{"sddm"}, false},
		{"a service by name", "sddm CLOSE USER alice bob", []string{"sddm"}, false},
		{"ALL", "ALL CLOSE USER alice bob", everyLogin, false},
		{"unreadable SERVICE, 4 fields", "SSH/D CLOSE USER alice", everyLogin, false},
		{"unreadable SERVICE, 5 fields", "SSH/D CLOSE USER alice bob", everyLogin, false},
		{"no SERVICE", "CLOSE USER alice", everyLogin, false},
		{"a lone CLOSE", "CLOSE", everyLogin, false},
		{"control character in the list", "SSHD CLOSE USER bob\x01", []string{"sshd"}, false},
		{"control character in the SERVICE", "SS\x01HD CLOSE USER bob", everyLogin, false},
		{"not UTF-8", "SSHD CLOSE USER b\xffb", []string{"sshd"}, false},

		// could only have let logins in, or means nothing known: ignored
		{"OPEN, 5 fields", "SSHD OPEN USER alice bob", nil, false},
		{"OPEN, bad target", "SSHD OPEN USRE alice", nil, false},
		{"OPEN, unreadable SERVICE", "SSH/D OPEN USER alice", nil, false},
		{"unknown OPTION", "SSHD OPNE USER alice", nil, false},
		{"unknown OPTION, no plugin file", "SSHD officehours USER alice", nil, false},
		{"unknown OPTION, 5 fields", "SSHD FOO USER alice bob", nil, false},
		{"one word", "garbage", nil, false},
		{"USER list of a valid OPEN", "SSHD OPEN GROUP users:2", nil, true},
		// a valid rule for a service that does not exist: nothing to refuse
		{"unknown service", "SHHD CLOSE USER alice", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rules.Parse("t.conf", []byte("DEFAULT:OPEN\n"+tt.line+"\n"), rules.ParseOptions{})
			if kept := len(cfg.Rules) == 1; kept != tt.kept {
				t.Errorf("rule kept %v, want %v (problems %v)", kept, tt.kept, cfg.Problems)
			}
			var locks []rules.Problem
			for _, p := range cfg.Problems {
				if p.Locks != nil {
					locks = append(locks, p)
				}
			}
			switch {
			case tt.locked == nil && len(locks) > 0:
				t.Errorf("a line that could not have kept anyone out refuses logins: %v", locks)
			case tt.locked != nil && len(locks) == 0:
				t.Fatalf("no problem refuses logins: %v", cfg.Problems)
			case tt.locked != nil && (locks[0].Pos.Line != 2 || locks[0].Label() != "error" ||
				!strings.Contains(locks[0].String(), "t.conf:2: error: ") || !strings.Contains(locks[0].String(), "refused until this line is fixed")):
				t.Errorf("problem %v: want t.conf:2, error, and what is refused", locks[0])
			}
			for _, l := range brokenLogins {
				d := rules.Explain(context.Background(), cfg, l.login, rules.Deps{Groups: groups, Sessions: fakeSessions{}})
				if !slices.Contains(tt.locked, l.name) {
					if d.Verdict != rules.Open || d.Broken != nil {
						t.Errorf("%s: %v (%s), want OPEN: the broken line names another service", l.name, d.Verdict, d.Reason)
					}
					continue
				}
				if d.Verdict != rules.Close || d.Err == nil || d.Broken == nil || d.Broken.Pos.Line != 2 ||
					!strings.Contains(d.Reason, "broken config line t.conf:2: ") {
					t.Errorf("%s: %v (%s), want CLOSE by the broken line t.conf:2", l.name, d.Verdict, d.Reason)
				}
				if !traceHas(d, "broken line, failing closed") {
					t.Errorf("%s: the trace does not say why: %v", l.name, d.Trace)
				}
			}
		})
	}
}

// TestBrokenSettings: a broken line of a setting that could restrict what
// stands (DEFAULT:OPEN, then DEFAULT:CLSOE) refuses every login, unless a
// valid line of that setting follows it; after a restrictive value, or
// for a setting that restricts nothing, it stays ignored.
func TestBrokenSettings(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		locked int // the line that refuses every login; 0 for none
	}{
		{"DEFAULT:OPEN, then a bad value", "DEFAULT:OPEN\nDEFAULT:CLSOE\n", 2},
		{"DEFAULT:OPEN, then a blank after the colon", "DEFAULT:OPEN\nDEFAULT: CLOSE\n", 2},
		{"DEFAULT:OPEN, then no colon", "DEFAULT:OPEN\nDEFAULT CLOSE\n", 2},
		{"DEFAULT:OPEN, then a slip in the key", "DEFAULT:OPEN\nDEFALUT:CLOSE\n", 2},
		{"DEFAULT:OPEN, then a slip in the key and a blank", "DEFAULT:OPEN\nDEFUALT: CLOSE\n", 2},
		{"DEFAULT:OPEN, then a control character", "DEFAULT:OPEN\nDEFAULT:CLOSE\x01\n", 2},
		{"a bad value, then DEFAULT:OPEN", "DEFAULT:CLSOE\nDEFAULT:OPEN\n", 0},
		{"DEFAULT:OPEN, a bad value, a valid DEFAULT:CLOSE", "DEFAULT:OPEN\nDEFAULT:CLSOE\nDEFAULT:CLOSE\n", 0},
		{"a bad value under the built-in CLOSE", "DEFAULT:CLSOE\n", 0},
		{"DEFAULT:CLOSE, then a bad value", "DEFAULT:CLOSE\nDEFAULT:OPNE\n", 0},
		{"HOST_NAMES:TRUST, then a bad value", "DEFAULT:OPEN\nHOST_NAMES:TRUST\nHOST_NAMES:DISTRSUT\n", 3},
		{"ASK_FALLBACK:OPEN, then a bad value", "DEFAULT:OPEN\nASK_FALLBACK:OPEN\nASK_FALLBACK:CLSE\n", 3},
		{"OPA_FALLBACK:OPEN, then a bad value", "DEFAULT:OPEN\nOPA_FALLBACK:OPEN\nOPA_FALLBACK:CLOSED\n", 3},
		{"ASK_REMEMBER:8, then a bad value", "DEFAULT:OPEN\nASK_REMEMBER:8\nASK_REMEMBER:0\n", 3},
		{"ASK_REMEMBER:8, then OFF", "DEFAULT:OPEN\nASK_REMEMBER:8\nASK_REMEMBER:OFF\n", 0},
		{"OPA_CACHE:600, then a bad value", "DEFAULT:OPEN\nOPA_CACHE:600\nOPA_CACHE:never\n", 3},
		// with OPA set up, a broken SERVER_GROUP would have the policy decide for another group
		{"OPA and a broken SERVER_GROUP", "OPA_URL:http://127.0.0.1:8181\nSERVER_GROUP:web eu\n", 2},
		{"OPA and a slip in SERVER_GROUP's key", "OPA_URL:http://127.0.0.1:8181\nSERVER_GRUOP:web\n", 2},
		{"OPA, a broken SERVER_GROUP, a valid one", "OPA_URL:http://127.0.0.1:8181\nSERVER_GROUP:web/eu\nSERVER_GROUP:web\n", 0},
		{"a broken SERVER_GROUP without OPA", "DEFAULT:OPEN\nSERVER_GROUP:web/eu\n", 0},
		{"a setting that restricts nothing", "DEFAULT:OPEN\nDEBUG:yes\nASK_TIMEOUT:300\nCOLOUR:blue\n", 0},
		// a broken line that plainly says the permissive value could only open
		{"DEFAULT:OPEN, then DEFAULT: OPEN", "DEFAULT:OPEN\nDEFAULT: OPEN\n", 0},
		{"DEFAULT:OPEN, then a slip in the key of OPEN", "DEFAULT:OPEN\nDEFALUT:open\n", 0},
		{"HOST_NAMES:TRUST, then HOST_NAMES TRUST", "DEFAULT:OPEN\nHOST_NAMES:TRUST\nHOST_NAMES TRUST\n", 0},
		{"DEFAULT:OPEN, then a value with a blank", "DEFAULT:OPEN\nDEFAULT:OP EN\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rules.Parse("t.conf", []byte(tt.src), rules.ParseOptions{})
			var locked []int
			for _, p := range cfg.Problems {
				if p.Locks != nil {
					locked = append(locked, p.Pos.Line)
				}
			}
			if tt.locked == 0 {
				if len(locked) != 0 {
					t.Fatalf("lines %v refuse logins: %v", locked, cfg.Problems)
				}
				return
			}
			if len(locked) != 1 || locked[0] != tt.locked {
				t.Fatalf("lines %v refuse logins, want line %d: %v", locked, tt.locked, cfg.Problems)
			}
			for _, l := range brokenLogins {
				d := rules.Decide(context.Background(), cfg, l.login, rules.Deps{Groups: groups, Sessions: fakeSessions{}})
				if d.Verdict != rules.Close || d.Broken == nil || !strings.Contains(d.Reason, "every login is refused until this line is fixed") {
					t.Errorf("%s: %v (%s), want CLOSE by the broken setting", l.name, d.Verdict, d.Reason)
				}
			}
		})
	}
}

// TestBrokenAcrossFiles: a drop-in's broken line refuses what it names,
// and a drop-in's valid DEFAULT settles a main file's broken one.
func TestBrokenAcrossFiles(t *testing.T) {
	path := confDir(t, "DEFAULT:OPEN\nDEFAULT:CLSOE\n", map[string]string{
		"10-a.conf": "LOGIN OPEN GROUP ALL\n",
		"20-b.conf": "DEFAULT:OPEN\nSSHD CLOSE USER alice bob\n",
	})
	cfg, err := rules.Load(rules.LoadOptions{Path: path, InsecureSkipOwnerCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	var locks []string
	for _, p := range cfg.Problems {
		if p.Locks != nil {
			locks = append(locks, filepath.Base(p.Pos.File)+":"+p.Pos.String()[len(p.Pos.File)+1:])
		}
	}
	if strings.Join(locks, " ") != "20-b.conf:2" {
		t.Fatalf("refusing lines %v, want only 20-b.conf:2: %v", locks, cfg.Problems)
	}
	for _, l := range brokenLogins {
		d := rules.Decide(context.Background(), cfg, l.login, rules.Deps{Groups: groups})
		if want := l.name == "sshd"; (d.Verdict == rules.Close) != want {
			t.Errorf("%s: %v (%s)", l.name, d.Verdict, d.Reason)
		}
	}
}

// TestBrokenPluginLines: a plugin OPTION with its file there could answer
// CLOSE, so its broken line refuses; a plugin name with no file is an
// unknown word (docs/rules.md: "a name with no such file makes the line
// invalid"), ignored as the original ignored it.
func TestBrokenPluginLines(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hours.star"), []byte("def decide(ctx):\n    return None\n"), 0o644))
	must(t, os.Mkdir(filepath.Join(dir, "adir.star"), 0o755))
	for _, tt := range []struct {
		line   string
		locked bool
	}{
		{"SSHD hours USER alice bob", true},
		{"SSHD hours USRE alice", true},
		{"SSHD adir USER alice", true}, // there, but not a regular file
		{"SSHD nosuch USER alice", false},
		{"SSHD nosuch USER alice bob", false},
		{"SSHD hours USER alice", false}, // a good line
	} {
		cfg := rules.Parse("t.conf", []byte("DEFAULT:OPEN\n"+tt.line+"\n"), rules.ParseOptions{PluginDir: dir})
		_, locked := cfg.Refuses(login("sshd", "alice", "", pw))
		if locked != tt.locked {
			t.Errorf("%q: refuses sshd logins %v, want %v: %v", tt.line, locked, tt.locked, cfg.Problems)
		}
	}
}

// TestFirstReport: a config's problems are reported once per load: the
// first caller gets true, every later one (the daemon's next logins under
// the same cached config) false; a new load reports again.
func TestFirstReport(t *testing.T) {
	cfg := parse("SSHD CLOSE USER alice bob\n")
	if !cfg.FirstReport() || cfg.FirstReport() || cfg.FirstReport() {
		t.Error("FirstReport is not true exactly once")
	}
	if !parse("SSHD CLOSE USER alice bob\n").FirstReport() {
		t.Error("a new load is not reported")
	}
}
