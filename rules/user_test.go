package rules_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// foldNSS is a case-insensitive NSS, as SSSD's AD provider is: any
// spelling of a known name finds the account, whose pw_name is as stored.
type foldNSS struct {
	names map[string]string // lower-cased name → pw_name
	err   error
}

func (n foldNSS) UserName(name string) (string, bool, error) {
	if n.err != nil {
		return "", false, n.err
	}
	pw, ok := n.names[strings.ToLower(name)]
	return pw, ok, nil
}

var adNSS = foldNSS{names: map[string]string{"alice": "alice", "carol": "carol"}}

// exactNSS knows names only as stored, as files and LDAP do.
var exactNSS = exactUsers{"alice": true, "carol": true}

type exactUsers map[string]bool

func (u exactUsers) UserName(name string) (string, bool, error) { return name, u[name], nil }

func TestResolveUser(t *testing.T) {
	failing := foldNSS{err: errors.New("sssd: Input/output error")}
	for _, tt := range []struct {
		name          string
		users         rules.Users
		typed         string
		user, pamUser string
		err           string
	}{
		{"another spelling of a known name", adNSS, "ALICE", "alice", "ALICE", ""},
		{"the name as stored", adNSS, "alice", "alice", "", ""},
		{"a user NSS does not know keeps the name as given", adNSS, "Bob", "Bob", "", ""},
		{"NSS failing", failing, "alice", "alice", "", "Input/output error"},
		{"NSS naming nobody", foldNSS{names: map[string]string{"alice": ""}}, "alice", "", "", "empty name"},
		{"no source", nil, "alice", "", "", "no user source"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, err := rules.ResolveUser(tt.users, rules.Login{Service: "sshd", User: tt.typed})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || l.User != tt.user || l.PAMUser != tt.pamUser || l.AsGiven() != tt.typed {
				t.Fatalf("%+v %v, want user %q, PAM_USER %q", l, err, tt.user, tt.pamUser)
			}
		})
	}
}

// TestDecideNSSName plays a client that types its name in another case
// where NSS is case-insensitive: every rule sees the account's name, so
// the spelling dodges no CLOSE and picks no other OPEN, ASK or PIN; a
// CLOSE naming the spelling as given applies too.
func TestDecideNSSName(t *testing.T) {
	for _, tt := range []struct {
		name     string
		conf     string
		users    rules.Users
		typed    string
		rhost    string
		sessions []rules.Session
		approved fakeApprovals
		want     rules.Verdict
		line     int
	}{
		{"CLOSE USER alice refuses ALICE", "DEFAULT:OPEN\nSSHD CLOSE USER alice", adNSS, "ALICE", "", nil, nil, rules.Close, 2},
		{"CLOSE USER alice refuses aLiCe", "DEFAULT:OPEN\nSSHD CLOSE USER alice", adNSS, "aLiCe", "", nil, nil, rules.Close, 2},
		{"CLOSE USER ALICE refuses ALICE (the name as given)", "DEFAULT:OPEN\nSSHD CLOSE USER ALICE", adNSS, "ALICE", "", nil, nil, rules.Close, 2},
		{"CLOSE USER ALICE does not refuse alice", "DEFAULT:OPEN\nSSHD CLOSE USER ALICE", adNSS, "alice", "", nil, nil, rules.Open, 0},
		{"OPEN USER alice opens ALICE: NSS says alice", "SSHD OPEN USER alice", adNSS, "ALICE", "", nil, nil, rules.Open, 1},
		{"OPEN USER alice: a case-sensitive NSS knows no ALICE", "SSHD OPEN USER alice", exactNSS, "ALICE", "", nil, nil, rules.Close, 0},
		{"OPEN USER ALICE does not open ALICE: the account is alice", "SSHD OPEN USER ALICE", adNSS, "ALICE", "", nil, nil, rules.Close, 0},
		{"PIN USER ALICE does not apply to the account alice", "SSHD PIN USER ALICE\nSSHD OPEN GROUP ALL", adNSS, "ALICE", "", nil, nil, rules.Open, 2},
		{"ASK USER alice asks for ALICE", "SSHD ASK USER alice\nSSHD OPEN GROUP ALL", adNSS, "ALICE", "192.0.2.1", nil, nil, rules.Ask, 1},
		{"ASK: alice's approval stands for ALICE", "SSHD ASK USER alice", adNSS, "ALICE", "192.0.2.1", nil,
			fakeApprovals{"alice@192.0.2.1": true}, rules.Open, 1},
		{"GROUP: ALICE's groups are alice's", "SSHD OPEN GROUP admins", adNSS, "ALICE", "", nil, nil, rules.Open, 1},
		{"NUMBER: ALICE with a session as alice is counted once", "SSHD OPEN GROUP users\nSSHD NUMBER GROUP users:1", adNSS, "ALICE", "",
			[]rules.Session{session("alice")}, nil, rules.Open, 1},
		{"a user NSS does not know: CLOSE USER by the name as given", "DEFAULT:OPEN\nSSHD CLOSE USER zed", adNSS, "zed", "", nil, nil, rules.Close, 2},
		{"a user NSS does not know, OPEN by the name as given", "SSHD OPEN USER zed", adNSS, "zed", "", nil, nil, rules.Open, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rules.Parse("t.conf", []byte(tt.conf), rules.ParseOptions{})
			deps := rules.Deps{Groups: groups, Sessions: fakeSessions{list: tt.sessions}}
			if tt.approved != nil {
				deps.Approvals = tt.approved
			}
			l, err := rules.ResolveUser(tt.users, login("sshd", tt.typed, tt.rhost, pw))
			if err != nil {
				t.Fatal(err)
			}
			d := rules.Explain(context.Background(), cfg, l, deps)
			line := 0
			if d.Rule != nil {
				line = d.Rule.Pos.Line
			}
			if d.Verdict != tt.want || line != tt.line || d.Err != nil {
				t.Fatalf("%v by line %d (%s, %v), want %v by line %d", d.Verdict, line, d.Reason, d.Err, tt.want, tt.line)
			}
			trace := ""
			for _, s := range d.Trace {
				trace += s.Text + "\n"
			}
			if l.PAMUser != "" && !strings.Contains(trace, `user "alice" (PAM_USER "`+tt.typed+`")`) {
				t.Errorf("the trace does not name both names:\n%s", trace)
			}
		})
	}
}
