package rules_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// fakeOPA answers every OPA rule with one option; "error" fails.
type fakeOPA struct {
	answer string
	asked  *int
}

func (o fakeOPA) Decide(_ context.Context, r *rules.Rule, l rules.Login) (rules.OPAAnswer, error) {
	*o.asked++
	opt := map[string]rules.Option{"OPEN": rules.OptOpen, "CLOSE": rules.OptClose, "ASK": rules.OptAsk,
		"PIN": rules.OptPin, "NUMBER": rules.OptNumber}[o.answer]
	if o.answer == "error" {
		return rules.OPAAnswer{}, errors.New("no OPA_URL")
	}
	return rules.OPAAnswer{Option: opt, Why: "allow " + o.answer, Trace: []string{"input {…}"}}, nil
}

// TestOPAJoinsDecisionOrder: OPA's answer takes the place of a rule of
// that option in docs/rules.md's order, asked once per login, never when a
// CLOSE rule applies anyway.
func TestOPAJoinsDecisionOrder(t *testing.T) {
	tests := []struct {
		name   string
		conf   string
		user   string
		rhost  string
		answer string
		want   rules.Verdict
		asked  int
		reason string
	}{
		{"allow is OPEN", "SSHD OPA GROUP ALL\n", "alice", "192.0.2.1", "OPEN", rules.Open, 1, "OPA answered OPEN"},
		{"deny is CLOSE", "DEFAULT:OPEN\nSSHD OPA GROUP ALL\n", "alice", "192.0.2.1", "CLOSE", rules.Close, 1, "OPA answered CLOSE"},
		{"ASK is ASK", "SSHD OPA GROUP ALL\n", "alice", "192.0.2.1", "ASK", rules.Ask, 1, ""},
		{"PIN is PIN", "SSHD OPA GROUP ALL\n", "alice", "192.0.2.1", "PIN", rules.Pin, 1, ""},
		{"a CLOSE rule is not asked about", "SSHD CLOSE USER alice\nSSHD OPA GROUP ALL\n", "alice", "", "OPEN", rules.Close, 0, "CLOSE rule"},
		{"OPA's CLOSE beats an OPEN rule", "SSHD OPEN USER alice\nSSHD OPA GROUP ALL\n", "alice", "", "CLOSE", rules.Close, 1, "OPA"},
		{"OPA's OPEN loses to a PIN rule", "SSHD PIN USER alice\nSSHD OPA GROUP ALL\n", "alice", "", "OPEN", rules.Pin, 1, "PIN rule"},
		{"users it does not name are not asked", "SSHD OPA USER bob\n", "alice", "", "OPEN", rules.Close, 0, "DEFAULT"},
		{"two OPA rules, one question", "SSHD OPA USER alice\nSSH OPA GROUP admins\n", "alice", "", "OPEN", rules.Open, 1, ""},
		{"an error refuses", "DEFAULT:OPEN\nSSHD OPA GROUP ALL\n", "alice", "", "error", rules.Close, 1, "no OPA_URL"},
		{"an option OPA cannot answer refuses", "DEFAULT:OPEN\nSSHD OPA GROUP ALL\n", "alice", "", "NUMBER", rules.Close, 1, "not OPEN, CLOSE, ASK or PIN"},
		{"a name RHOST: OPA's OPEN does not count", "SSHD OPA HOST gw.example.com\n", "alice", "gw.example.com", "OPEN", rules.Close, 1, "does not count"},
		{"a name RHOST: OPA's CLOSE counts", "DEFAULT:OPEN\nSSHD OPA HOST 10.0.0.0/8\n", "alice", "gw.example.com", "CLOSE", rules.Close, 1, "OPA answered CLOSE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rules.Parse("r.conf", []byte(tt.conf), rules.ParseOptions{})
			if len(cfg.Problems) > 0 {
				t.Fatalf("problems %v", cfg.Problems)
			}
			asked := 0
			d := rules.Explain(context.Background(), cfg, rules.Login{Service: "sshd", User: tt.user, RHost: tt.rhost, Auth: rules.AuthPassword},
				rules.Deps{Groups: groups, OPA: fakeOPA{answer: tt.answer, asked: &asked}})
			if d.Verdict != tt.want || asked != tt.asked || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("verdict %s (want %s), asked %d (want %d), reason %q (want %q)", d.Verdict, tt.want, asked, tt.asked, d.Reason, tt.reason)
			}
			if asked > 0 && tt.answer != "error" && !traceHas(d, "OPA: input {…}") {
				t.Errorf("the exchange is not in the trace: %v", d.Trace)
			}
		})
	}
	// no OPA at all (explain without one, say): fails closed
	cfg := rules.Parse("r.conf", []byte("DEFAULT:OPEN\nSSHD OPA GROUP ALL\n"), rules.ParseOptions{})
	if d := rules.Decide(context.Background(), cfg, rules.Login{Service: "sshd", User: "alice"}, rules.Deps{Groups: groups}); d.Verdict != rules.Close || d.Err == nil {
		t.Errorf("no OPA: %s %q", d.Verdict, d.Reason)
	}
}

func traceHas(d rules.Decision, s string) bool {
	for _, st := range d.Trace {
		if strings.Contains(st.Text, s) {
			return true
		}
	}
	return false
}
