package rules_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// benchConfig writes a config of n rules over 2×groups group names, of
// every service, option and target kind, in the shapes admins write.
func benchConfig(n, groups int) []byte {
	var b strings.Builder
	b.WriteString("# generated for benchmarks\nDEFAULT:CLOSE\nDEBUG:FALSE\n")
	services := []string{"SSHD", "SSH", "SSHD-KEY", "SDDM", "LOGIN", "XDM", "ALL", "SU"}
	for i := 0; i < n; i++ {
		svc := services[(i/8)%len(services)]
		g := func(k int) string { return fmt.Sprintf("g%d", (i*7+k*13)%(2*groups)) }
		switch i % 8 {
		case 0, 1:
			fmt.Fprintf(&b, "%s OPEN GROUP %s,%s,%s\n", svc, g(1), g(2), g(3))
		case 2:
			fmt.Fprintf(&b, "%s CLOSE USER u%d,u%d\n", svc, i, i+1)
		case 3:
			fmt.Fprintf(&b, "%s CLOSE HOST 10.%d.0.0/16,192.0.2.%d\n", svc, i%250, i%250)
		case 4:
			fmt.Fprintf(&b, "%s ASK GROUP %s\n", svc, g(4))
		case 5:
			fmt.Fprintf(&b, "%s\tNUMBER\tGROUP\t%s:%d   # limit\n", svc, g(5), 5+i%50)
		case 6:
			fmt.Fprintf(&b, "%s open users u%d\n", strings.ToLower(svc), i)
		default:
			fmt.Fprintf(&b, "%s CLOSE GROUP %s\n", svc, fmt.Sprintf("x%d", i))
		}
	}
	return []byte(b.String())
}

// benchDeps: the user is in groups g0…g(groups-1); 20 other users are
// logged in, each in a few groups.
type benchDeps struct {
	mine []string
}

func (d benchDeps) UserGroups(user string) ([]string, error) {
	if user == "benchuser" {
		return d.mine, nil
	}
	var n int
	fmt.Sscanf(user, "other%d", &n)
	return []string{fmt.Sprintf("g%d", n*3), fmt.Sprintf("g%d", n*5), "users"}, nil
}

func (benchDeps) Sessions(context.Context) ([]rules.Session, error) {
	s := make([]rules.Session, 20)
	for i := range s {
		s[i] = rules.Session{User: fmt.Sprintf("other%d", i), Service: "sshd", Class: "user", State: "active"}
	}
	return s, nil
}

func newBenchDeps(groups int) rules.Deps {
	d := benchDeps{}
	for i := 0; i < groups; i++ {
		d.mine = append(d.mine, fmt.Sprintf("g%d", i))
	}
	return rules.Deps{Groups: d, Sessions: d}
}

// benchLogin is matched by OPEN, ASK and NUMBER rules all through the file
// and closed by a HOST rule near its end, so a decision reads every rule.
var benchLogin = rules.Login{Service: "sshd", User: "benchuser", RHost: "10.249.3.4", Auth: rules.AuthPassword}

func BenchmarkParse10k(b *testing.B) {
	src := benchConfig(10000, 1000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		cfg := rules.Parse("bench.conf", src, rules.ParseOptions{})
		if len(cfg.Rules) != 10000 {
			b.Fatalf("%d rules, problems %v", len(cfg.Rules), cfg.Problems[:1])
		}
	}
}

func BenchmarkDecide10k(b *testing.B) {
	cfg := rules.Parse("bench.conf", benchConfig(10000, 1000), rules.ParseOptions{})
	deps := newBenchDeps(1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		// a fresh group resolution every time, as in the helper
		d := rules.Decide(ctx, cfg, benchLogin, deps)
		if d.Err != nil {
			b.Fatal(d.Err)
		}
	}
}

// BenchmarkParseAndDecide10k is the helper's whole work per PAM call.
func BenchmarkParseAndDecide10k(b *testing.B) {
	src := benchConfig(10000, 1000)
	deps := newBenchDeps(1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		cfg := rules.Parse("bench.conf", src, rules.ParseOptions{})
		rules.Decide(ctx, cfg, benchLogin, deps)
	}
}

// TestDecideBenchConfig pins what the benchmark decides, so the benchmark
// measures a real decision (an early CLOSE would measure nothing).
func TestDecideBenchConfig(t *testing.T) {
	cfg := rules.Parse("bench.conf", benchConfig(10000, 1000), rules.ParseOptions{})
	if len(cfg.Rules) != 10000 || len(cfg.Problems) != 0 {
		t.Fatalf("%d rules, %d problems: %v", len(cfg.Rules), len(cfg.Problems), cfg.Problems)
	}
	d := rules.Explain(context.Background(), cfg, benchLogin, newBenchDeps(1000))
	if d.Verdict != rules.Close || d.Rule == nil || d.Rule.Option != rules.OptClose || d.Rule.Target != rules.TargetHost {
		t.Fatalf("decision %v by %+v (%s), want CLOSE by a CLOSE HOST rule", d.Verdict, d.Rule, d.Reason)
	}
	applied := 0
	for _, s := range d.Trace {
		if strings.Contains(s.Text, ": applies,") {
			applied++
		}
	}
	if applied < 100 {
		t.Fatalf("only %d rules applied; the benchmark would not exercise group matching", applied)
	}
}

// TestParseAllocationLinear: ten times the file costs about ten times the
// memory, never more (no quadratic copying as files grow).
func TestParseAllocationLinear(t *testing.T) {
	measure := func(n int) (allocs, bytes float64) {
		src := benchConfig(n, 1000)
		var before, after runtime.MemStats
		const runs = 5
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			rules.Parse("bench.conf", src, rules.ParseOptions{})
		}
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs-before.Mallocs) / runs, float64(after.TotalAlloc-before.TotalAlloc) / runs
	}
	a1, b1 := measure(1000)
	a10, b10 := measure(10000)
	if r := a10 / a1; r < 8 || r > 12 {
		t.Errorf("allocations grow %.1f× for 10× the rules (%.0f → %.0f), want about 10×", r, a1, a10)
	}
	if r := b10 / b1; r < 7 || r > 13 {
		t.Errorf("allocated bytes grow %.1f× for 10× the rules (%.0f → %.0f), want about 10×", r, b1, b10)
	}
}

// BenchmarkLoad10k and BenchmarkCacheLoad10k: what a daemon call pays for
// its config, read and parsed every time, or checked unchanged.
func BenchmarkLoad10k(b *testing.B) {
	path := benchFile(b)
	for b.Loop() {
		if _, err := rules.Load(rules.LoadOptions{Path: path, InsecureSkipOwnerCheck: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheLoad10k(b *testing.B) {
	path := benchFile(b)
	var c rules.Cache
	for b.Loop() {
		if _, err := c.Load(rules.LoadOptions{Path: path, InsecureSkipOwnerCheck: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFile(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "pam-accesscontrol.conf")
	if err := os.WriteFile(path, []byte(benchConfig(10000, 1000)), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
