package starhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

type logLine struct {
	priority int
	msg      string
}

func host(lines *[]logLine) *Host {
	return &Host{Log: func(p int, m string) { *lines = append(*lines, logLine{p, m}) },
		Limits: Limits{Steps: 100_000, Time: time.Second}}
}

func TestRunAndModules(t *testing.T) {
	var lines []logLine
	s, err := Compile("t.py", []byte(`import syslog
from json import encode
state = {"n": 0}
def bump():
    state["n"] += 1   # Starlark has no global statement: module state lives in a dict
    return state["n"]
def f():
    syslog.syslog("plain")
    syslog.syslog(syslog.LOG_ERR, "bad")
    print("printed")
    c = catch(fail)
    ok = catch(lambda x: x * 2, 21)
    return [bump(), bump(), c.error != None, ok.value, ok.error is None, encode({"a": 1}), os.path.isdir("/"), pwd.getpwuid(0).pw_name]
def fail():
    return 1 // 0
`))
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Start(host(&lines))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	v, err := run.Call("f")
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != `[1, 2, True, 42, True, "{\"a\":1}", True, "root"]` {
		t.Errorf("f() = %s", got)
	}
	want := []logLine{{6, "plain"}, {3, "bad"}, {6, "printed"}}
	if len(lines) != 3 || lines[0] != want[0] || lines[1] != want[1] || lines[2] != want[2] {
		t.Errorf("log %v", lines)
	}
	if _, err := run.Call("missing"); !errors.Is(err, ErrNoFunction) {
		t.Errorf("missing function: %v", err)
	}
}

// TestHostile: a script cannot run away; each ends in an error within the
// limits.
func TestHostile(t *testing.T) {
	for _, tt := range []struct {
		name, src, want string
	}{
		{"infinite loop", "def f():\n    while True:\n        pass\n", "too many steps"},
		{"slow loop", "def f():\n    x = 0\n    while True:\n        x = x + 1\n", "too many steps"},
		{"recursion", "def f():\n    return f()\n", "called recursively"},
		{"huge allocation", "def f():\n    return \"x\" * (1 << 40)\n", "repeat count"},
		{"limits cannot be caught", "def g():\n    while True:\n        pass\ndef f():\n    catch(g)\n    return 1\n", "too many steps"},
		{"error with position", "def f():\n    return {}[\"k\"]\n", "t.py:2:14"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var lines []logLine
			s, err := Compile("t.py", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			run, err := s.Start(host(&lines))
			if err != nil {
				t.Fatal(err)
			}
			defer run.Stop()
			start := time.Now()
			_, err = run.Call("f")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
	// wall clock: a step budget so large that only the clock stops it
	s, _ := Compile("t.py", []byte("def f():\n    while True:\n        pass\n"))
	run, _ := s.Start(&Host{Limits: Limits{Steps: 1 << 62, Time: 200 * time.Millisecond}})
	defer run.Stop()
	if _, err := run.Call("f"); err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Errorf("wall clock: %v", err)
	}
	// compile errors
	if _, err := Compile("t.py", []byte("import requests\n")); err == nil || !strings.Contains(err.Error(), "t.py:1") {
		t.Errorf("unknown import: %v", err)
	}
	if _, err := Compile("t.py", []byte("try:\n    pass\nexcept:\n    pass\n")); err == nil || !strings.Contains(err.Error(), "t.py:1") {
		t.Errorf("try: %v", err)
	}
}

type groups map[string][]string

func (g groups) UserGroups(u string) ([]string, error) { return g[u], nil }

// TestExamplePlugins runs each plugin of examples/plugins.
func TestExamplePlugins(t *testing.T) {
	dir, _ := filepath.Abs("../../examples/plugins")
	files := map[string]string{}
	for _, n := range []string{"officehours", "reason", "networks"} {
		files[n] = filepath.Join(dir, n+".star")
	}
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.Local)
	saturday10 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.Local)
	monday20 := time.Date(2026, 11, 23, 20, 0, 0, 0, time.Local)
	tests := []struct {
		plugin   string
		now      time.Time
		user     string
		rhost    string
		answer   string // typed at the prompt
		want     rules.Answer
		wantLog  string
		wantShow string // an error message shown
	}{
		{"officehours", monday10, "alice", "", "", rules.AnswerOpen, "", ""},
		{"officehours", saturday10, "alice", "", "", rules.AnswerClose, "", "weekdays from 8:00"},
		{"officehours", monday20, "alice", "", "", rules.AnswerClose, "", "weekdays"},
		{"reason", monday10, "alice", "10.1.2.3", "fix the backup", rules.NoOpinion, "reason for alice's login from 10.1.2.3: fix the backup", ""},
		{"reason", monday10, "alice", "10.1.2.3", " x ", rules.AnswerClose, "", "A reason is required."},
		{"networks", monday10, "alice", "10.1.2.3", "", rules.NoOpinion, "", ""},
		{"networks", monday10, "alice", "203.0.113.5", "", rules.AnswerClose, "", ""},
		{"networks", monday10, "bob", "203.0.113.5", "", rules.NoOpinion, "", ""}, // bob travels
		{"networks", monday10, "alice", "gw.example.com", "", rules.AnswerClose, "", ""},
	}
	for _, tt := range tests {
		var lines []logLine
		var shown []string
		h := host(&lines)
		h.Now = func() time.Time { return tt.now }
		p := &Plugins{Host: h, Files: files, Groups: groups{"bob": {"travel"}},
			Converse: func(style int, msg string) (string, error) {
				if style == ErrorMsg {
					shown = append(shown, msg)
				}
				return tt.answer, nil
			}}
		got, err := p.Decide(context.Background(), &rules.Rule{Plugin: tt.plugin}, rules.Login{Service: "sshd", User: tt.user, RHost: tt.rhost})
		if err != nil || got != tt.want {
			t.Errorf("%s %s %s at %v: %v, %v; want %v", tt.plugin, tt.user, tt.rhost, tt.now, got, err, tt.want)
		}
		if tt.wantLog != "" && (len(lines) != 1 || lines[0].msg != tt.wantLog || lines[0].priority != 5) {
			t.Errorf("%s: log %v, want %q", tt.plugin, lines, tt.wantLog)
		}
		if tt.wantShow != "" && (len(shown) != 1 || !strings.Contains(shown[0], tt.wantShow)) {
			t.Errorf("%s: shown %q, want %q", tt.plugin, shown, tt.wantShow)
		}
	}
}

func TestPluginAnswers(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ src, want string }{
		{`def decide(ctx): return "OPEN"`, ""},
		{`def decide(ctx): return "open"`, `"open"`},
		{`def decide(ctx): return True`, "True"},
		{`def decide(ctx): return 0`, "0"},
		{`x = 1`, "decide"},
	} {
		path := filepath.Join(dir, "p.star")
		writeFile(t, path, tt.src+"\n")
		p := &Plugins{Host: &Host{}, Files: map[string]string{"p": path}}
		_, err := p.Decide(context.Background(), &rules.Rule{Plugin: "p"}, rules.Login{})
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
