package test

import (
	"context"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/opa"
)

// BenchmarkOPALogin is what an OPA decision costs a login: one real PAM
// transaction (pamtester, libpam, the module, the helper) per op, deciding
// by an OPEN rule, by OPA's authz alone, and by pam_authz's three cycles
// (display with two prompts answered, pull of a file, authz), against a
// real OPA on loopback. The difference to "OPEN rule" is OPA's cost.
func BenchmarkOPALogin(b *testing.B) {
	fleet := startOPA(b, "", "testdata/opa-fleet")
	fleet.putData(b, "fleet/allowed", `["ops"]`)
	readme := startOPA(b, "", "testdata/opa/v1")
	etc := newOPAEtc(b, "frontend")
	for _, bc := range []struct {
		name, rules, stdin string
	}{
		{"OPEN rule", "DEFAULT:CLOSE\nSSHD OPEN USER ops\n", ""},
		{"OPA authz", opaRules(fleet.URL, "OPA_AUTHZ:fleet/authz"), ""},
		{"OPA three cycles", opaRules(readme.URL, pamAuthzSettings...), "ramesh\nsuresh\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newOPAStack(b, bc.rules)
			for i := 0; i < b.N; i++ {
				if out, code, _ := etc.pamtester(b, s, bc.stdin, []string{"rhost=192.0.2.40"}, "ops", "authenticate"); code != 0 {
					b.Fatalf("login refused (%d):\n%s", code, out)
				}
			}
		})
	}
}

// BenchmarkOPAQuery is one authz request alone, by the client the helper
// uses, against the real OPA: the network and OPA's evaluation.
func BenchmarkOPAQuery(b *testing.B) {
	o := startOPA(b, "", "testdata/opa-fleet")
	o.putData(b, "fleet/allowed", `["ops"]`)
	c, err := opa.NewClient(rules.OPASettings{URL: o.URL, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	input := map[string]any{"sysinfo": map[string]any{"pam_username": "ops", "pam_service": "sshd"},
		"pam_accesscontrol": map[string]any{"auth": "SSHD"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Query(context.Background(), "fleet/authz", input); err != nil {
			b.Fatal(err)
		}
	}
}
