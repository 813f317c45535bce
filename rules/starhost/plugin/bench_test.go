package plugin

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// BenchmarkDecide{With,Without}Plugin: one decision with a plugin rule
// (officehours), against the same decision by a plain OPEN rule.
func BenchmarkDecideWithPlugin(b *testing.B) {
	dir, _ := filepath.Abs("../../../examples/plugins")
	cfg := rules.Parse("b.conf", []byte("SSHD officehours USER alice\n"), rules.ParseOptions{PluginDir: dir})
	deps := rules.Deps{Plugins: &Runner{Host: &starhost.Host{}, Files: cfg.Plugins}}
	l := rules.Login{Service: "sshd", User: "alice", Auth: rules.AuthPassword}
	for b.Loop() {
		if d := rules.Decide(context.Background(), cfg, l, deps); d.Err != nil {
			b.Fatal(d.Err)
		}
	}
}

func BenchmarkDecideWithoutPlugin(b *testing.B) {
	cfg := rules.Parse("b.conf", []byte("SSHD OPEN USER alice\n"), rules.ParseOptions{})
	l := rules.Login{Service: "sshd", User: "alice", Auth: rules.AuthPassword}
	for b.Loop() {
		rules.Decide(context.Background(), cfg, l, rules.Deps{})
	}
}
