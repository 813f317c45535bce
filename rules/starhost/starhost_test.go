package starhost

import (
	"errors"
	"strings"
	"testing"
	"time"
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
