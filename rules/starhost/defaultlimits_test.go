package starhost

import (
	"strings"
	"testing"
	"time"
)

// TestDefaultLimits (README, "Rule plugins"): plugins and pam_python
// scripts run with a Host that sets no limits, so the defaults hold: a
// loop is stopped after 10 million steps (before the 5 s clock would), and
// its run is bounded by 256 MiB of memory.
func TestDefaultLimits(t *testing.T) {
	s, err := Compile("t.py", []byte("def f():\n    while True:\n        pass\n"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Start(&Host{})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	start := time.Now()
	if _, err := run.Call("f"); err == nil || !strings.Contains(err.Error(), "too many steps") {
		t.Fatalf("err = %v, want too many steps", err)
	}
	if steps := run.Thread().ExecutionSteps(); steps < 10_000_000 || steps > 10_000_100 {
		t.Errorf("stopped after %d steps, want 10 million", steps)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the clock stopped it, not the steps", d)
	}
	if run.memory == nil || run.memory.limit != 256<<20 {
		t.Errorf("memory watch %+v, want a limit of 256 MiB", run.memory)
	}
}
