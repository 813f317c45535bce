package rules_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// fakeGroups maps users to their groups; a missing user is unknown to NSS.
type fakeGroups map[string][]string

func (g fakeGroups) UserGroups(user string) ([]string, error) {
	groups, ok := g[user]
	if !ok {
		return nil, errors.New("no such user in NSS")
	}
	return groups, nil
}

type fakeSessions struct {
	list []rules.Session
	err  error
}

func (s fakeSessions) Sessions(context.Context) ([]rules.Session, error) { return s.list, s.err }

type fakeApprovals map[string]bool // "user@rhost"

func (a fakeApprovals) Approved(_ context.Context, user, rhost string) (bool, error) {
	return a[user+"@"+rhost], nil
}

// fakePlugins answers per plugin name; an answer "error" fails.
type fakePlugins struct {
	answers map[string]string
	called  *[]string
}

func (p fakePlugins) Decide(_ context.Context, r *rules.Rule, l rules.Login) (rules.Answer, error) {
	*p.called = append(*p.called, r.Plugin)
	switch p.answers[r.Plugin] {
	case "OPEN":
		return rules.AnswerOpen, nil
	case "CLOSE":
		return rules.AnswerClose, nil
	case "ASK":
		return rules.AnswerAsk, nil
	case "error":
		return 0, errors.New("plugin failed")
	}
	return rules.NoOpinion, nil
}

var groups = fakeGroups{
	"alice": {"alice", "admins", "users"},
	"bob":   {"users"},
	"carol": {"users", "lp"},
	"dave":  {"dave"},
	"erin":  {"staff", "users"},
	"Alice": {"other"},
}

func session(user string) rules.Session {
	return rules.Session{User: user, Service: "sshd", Class: "user", State: "active"}
}

func login(service, user, rhost string, auth rules.AuthKind) rules.Login {
	return rules.Login{Service: service, User: user, RHost: rhost, Auth: auth}
}

var (
	pw  = rules.AuthPassword
	key = rules.AuthKey
	no  = rules.AuthNone
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name     string
		conf     string
		login    rules.Login
		sessions []rules.Session
		approved fakeApprovals
		want     rules.Verdict
		line     int // of the deciding rule; 0 for DEFAULT or an error
	}{
		// DEFAULT
		{"no rules, DEFAULT unset: CLOSE", "", login("sshd", "alice", "", pw), nil, nil, rules.Close, 0},
		{"DEFAULT:OPEN", "DEFAULT:OPEN", login("sshd", "alice", "", pw), nil, nil, rules.Open, 0},
		{"last DEFAULT wins", "DEFAULT:OPEN\nDEFAULT:CLOSE", login("sshd", "alice", "", pw), nil, nil, rules.Close, 0},
		{"five fields are ignored", "SSHD OPEN USER alice extra", login("sshd", "alice", "", pw), nil, nil, rules.Close, 0},
		// USER, GROUP, case
		{"USER", "SSHD OPEN USER bob,alice", login("sshd", "alice", "", pw), nil, nil, rules.Open, 1},
		{"user names are case-sensitive", "SSHD OPEN USER alice", login("sshd", "Alice", "", pw), nil, nil, rules.Close, 0},
		{"keywords are not", "sshd open user alice", login("SSHD", "alice", "", pw), nil, nil, rules.Open, 1},
		{"GROUP, supplementary", "SSHD OPEN GROUP admins", login("sshd", "alice", "", pw), nil, nil, rules.Open, 1},
		{"GROUP, primary", "SSHD OPEN GROUP dave", login("sshd", "dave", "", pw), nil, nil, rules.Open, 1},
		{"GROUP names are case-sensitive", "SSHD OPEN GROUP Admins", login("sshd", "alice", "", pw), nil, nil, rules.Close, 0},
		{"GROUP ALL", "SSHD OPEN GROUP ALL", login("sshd", "nobody-in-nss", "", pw), nil, nil, rules.Open, 1},
		// the order: CLOSE, PINGPG, PIN, ASK, OPEN
		{"CLOSE beats OPEN across USER and GROUP", "SSHD OPEN USER alice\nSSHD CLOSE GROUP users", login("sshd", "alice", "", pw), nil, nil, rules.Close, 2},
		{"CLOSE beats OPEN whatever the order", "SSHD CLOSE USER alice\nSSHD OPEN GROUP admins", login("sshd", "alice", "", pw), nil, nil, rules.Close, 1},
		{"PINGPG before PIN and OPEN", "SSHD OPEN USER alice\nSSHD PIN USER alice\nSSHD PINGPG USER alice", login("sshd", "alice", "", pw), nil, nil, rules.PinGPG, 3},
		{"PIN before OPEN", "SSHD OPEN USER alice\nSSHD PIN USER alice", login("sshd", "alice", "", pw), nil, nil, rules.Pin, 2},
		{"CLOSE before PINGPG", "SSHD PINGPG USER alice\nSSHD CLOSE USER alice", login("sshd", "alice", "", pw), nil, nil, rules.Close, 2},
		{"PIN before ASK", "SSHD ASK USER alice\nSSHD PIN GROUP ALL", login("sshd", "alice", "", pw), nil, nil, rules.Pin, 2},
		{"ASK beats OPEN", "SSHD OPEN USER carol\nSSHD ASK GROUP lp", login("sshd", "carol", "1.2.3.4", pw), nil, nil, rules.Ask, 2},
		{"ASK outside SSH is CLOSE", "SDDM OPEN USER carol\nSDDM ASK GROUP lp", login("sddm", "carol", "", no), nil, nil, rules.Close, 2},
		{"ASK again from an approved host is OPEN", "SSH ASK GROUP lp", login("sshd", "carol", "1.2.3.4", key), nil, fakeApprovals{"carol@1.2.3.4": true}, rules.Open, 1},
		{"ASK from another host is asked", "SSH ASK GROUP lp", login("sshd", "carol", "5.6.7.8", key), nil, fakeApprovals{"carol@1.2.3.4": true}, rules.Ask, 1},
		{"a matching rule beats DEFAULT", "DEFAULT:OPEN\nSSHD CLOSE USER bob", login("sshd", "bob", "", pw), nil, nil, rules.Close, 2},
		// SERVICE forms
		{"SSHD is not for key logins", "SSHD OPEN USER alice", login("sshd", "alice", "", key), nil, nil, rules.Close, 0},
		{"SSHD-KEY is for key logins", "SSHD-KEY OPEN USER alice", login("sshd", "alice", "", key), nil, nil, rules.Open, 1},
		{"SSHD-KEY is not for passwords", "SSHD-KEY OPEN USER alice", login("sshd", "alice", "", pw), nil, nil, rules.Close, 0},
		{"SSH: password", "SSH OPEN USER alice", login("sshd", "alice", "", pw), nil, nil, rules.Open, 1},
		{"SSH: key", "SSH OPEN USER alice", login("sshd", "alice", "", key), nil, nil, rules.Open, 1},
		{"SSH is not login", "SSH OPEN USER alice", login("login", "alice", "", no), nil, nil, rules.Close, 0},
		{"XDM: gdm-password", "XDM OPEN USER alice", login("gdm-password", "alice", "", no), nil, nil, rules.Open, 1},
		{"XDM: sddm", "XDM OPEN USER alice", login("sddm", "alice", "", no), nil, nil, rules.Open, 1},
		{"XDM: lightdm-autologin", "XDM OPEN USER alice", login("lightdm-autologin", "alice", "", no), nil, nil, rules.Open, 1},
		{"XDM: not sshd", "XDM OPEN USER alice", login("sshd", "alice", "", pw), nil, nil, rules.Close, 0},
		{"TTY is login", "TTY OPEN USER alice", login("login", "alice", "", no), nil, nil, rules.Open, 1},
		{"TTY is not su", "TTY OPEN USER alice", login("su", "alice", "", no), nil, nil, rules.Close, 0},
		{"ALL is every service", "ALL OPEN USER alice", login("cron", "alice", "", no), nil, nil, rules.Open, 1},
		{"a service by name", "SU OPEN USER alice", login("su", "alice", "", no), nil, nil, rules.Open, 1},
		{"other services' rules do not apply", "LOGIN CLOSE USER alice\nSSHD OPEN USER alice", login("sshd", "alice", "", pw), nil, nil, rules.Open, 2},
		// HOST
		{"HOST CIDR", "SSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", "10.66.1.2", pw), nil, nil, rules.Close, 1},
		{"HOST CIDR, outside", "DEFAULT:OPEN\nSSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", "10.67.1.2", pw), nil, nil, rules.Open, 0},
		{"HOST IPv6 CIDR", "SSHD OPEN HOST 2001:db8::/32", login("sshd", "alice", "2001:db8::5", pw), nil, nil, rules.Open, 1},
		{"HOST v4-mapped v6 rhost", "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", "::ffff:10.1.2.3", pw), nil, nil, rules.Open, 1},
		{"HOST address", "SSHD OPEN HOST 192.0.2.1", login("sshd", "alice", "192.0.2.1", pw), nil, nil, rules.Open, 1},
		{"HOST name, any case, with HOST_NAMES:TRUST", "HOST_NAMES:TRUST\nSSHD OPEN HOST gw.example.com", login("sshd", "alice", "GW.Example.com", pw), nil, nil, rules.Open, 2},
		{"HOST name opens nothing by default", "SSHD OPEN HOST gw.example.com", login("sshd", "alice", "gw.example.com", pw), nil, nil, rules.Close, 0},
		{"HOST names are not resolved", "SSHD OPEN HOST localhost", login("sshd", "alice", "127.0.0.1", pw), nil, nil, rules.Close, 0},
		{"HOST LOCAL is an empty rhost", "TTY OPEN HOST LOCAL", login("login", "alice", "", no), nil, nil, rules.Open, 1},
		{"HOST LOCAL is not a remote one", "SSHD OPEN HOST LOCAL", login("sshd", "alice", "10.0.0.1", pw), nil, nil, rules.Close, 0},
		// NUMBER
		{"NUMBER: room", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:2", login("sddm", "bob", "", no),
			[]rules.Session{session("carol")}, nil, rules.Open, 1},
		{"NUMBER: full", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:1", login("sddm", "bob", "", no),
			[]rules.Session{session("carol")}, nil, rules.Close, 2},
		{"NUMBER: the user counted once", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:1", login("sddm", "carol", "", no),
			[]rules.Session{session("carol"), session("carol")}, nil, rules.Open, 1},
		{"NUMBER: others' sessions counted once each", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:2", login("sddm", "bob", "", no),
			[]rules.Session{session("carol"), session("carol"), session("alice")}, nil, rules.Close, 2},
		{"NUMBER: non-members not counted", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:1", login("sddm", "bob", "", no),
			[]rules.Session{session("dave")}, nil, rules.Open, 1},
		{"NUMBER: closing sessions and greeters not counted", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:1", login("sddm", "bob", "", no),
			[]rules.Session{{User: "carol", Class: "user", State: "closing"}, {User: "alice", Class: "greeter", State: "active"}}, nil, rules.Open, 1},
		{"NUMBER: user-early counts", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:1", login("sddm", "bob", "", no),
			[]rules.Session{{User: "carol", Class: "user-early", State: "online"}}, nil, rules.Close, 2},
		{"NUMBER: every applicable entry must be full", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:1,lp:5", login("sddm", "carol", "", no),
			[]rules.Session{session("bob")}, nil, rules.Open, 1},
		{"NUMBER: both full", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:1\nSDDM NUMBER GROUP lp:0", login("sddm", "carol", "", no),
			[]rules.Session{session("bob")}, nil, rules.Close, 2},
		{"NUMBER: entries of other groups do not apply", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP lp:0", login("sddm", "bob", "", no),
			nil, nil, rules.Open, 1},
		{"NUMBER: N=0 closes the group", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:0", login("sddm", "bob", "", no),
			nil, nil, rules.Close, 2},
		{"NUMBER: ALL:N counts everyone", "SDDM OPEN GROUP ALL\nSDDM NUMBER GROUP ALL:1", login("sddm", "bob", "", no),
			[]rules.Session{session("dave")}, nil, rules.Close, 2},
		{"NUMBER opens nothing itself", "SDDM NUMBER GROUP users:5", login("sddm", "bob", "", no), nil, nil, rules.Close, 0},
		{"NUMBER of another service", "SSHD NUMBER GROUP users:0\nSDDM OPEN GROUP users", login("sddm", "bob", "", no), nil, nil, rules.Open, 2},
		{"NUMBER before CLOSE: a full limit closes even an OPEN user", "SDDM OPEN USER bob\nSDDM NUMBER GROUP users:0", login("sddm", "bob", "", no), nil, nil, rules.Close, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rules.Parse("t.conf", []byte(tt.conf), rules.ParseOptions{})
			deps := rules.Deps{Groups: groups, Sessions: fakeSessions{list: tt.sessions}}
			if tt.approved != nil {
				deps.Approvals = tt.approved
			}
			d := rules.Decide(context.Background(), cfg, tt.login, deps)
			if d.Verdict != tt.want {
				t.Fatalf("verdict %v, want %v (%s)", d.Verdict, tt.want, d.Reason)
			}
			line := 0
			if d.Rule != nil {
				line = d.Rule.Pos.Line
			}
			if line != tt.line {
				t.Fatalf("decided by line %d, want %d (%s)", line, tt.line, d.Reason)
			}
			if d.Err != nil {
				t.Fatalf("error %v", d.Err)
			}
			// Explain decides the same and its trace names the deciding line.
			e := rules.Explain(context.Background(), cfg, tt.login, deps)
			if e.Verdict != d.Verdict || e.Reason != d.Reason {
				t.Fatalf("Explain says %v (%s), Decide %v (%s)", e.Verdict, e.Reason, d.Verdict, d.Reason)
			}
			last := e.Trace[len(e.Trace)-1]
			if !strings.HasPrefix(last.Text, "decision "+d.Verdict.String()) || (line != 0 && last.Pos.Line != line) {
				t.Fatalf("last trace step %+v", last)
			}
		})
	}
}

// TestWorkedExample is the end of docs/rules.md: its rules read from
// there, so the page and the engine cannot part.
func TestWorkedExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "## Worked example\n\n```\n")
	example, _, fenced := strings.Cut(example, "```")
	if !ok || !fenced || !strings.HasPrefix(example, "DEFAULT:CLOSE\n") {
		t.Fatalf("docs/rules.md has no worked example in a fenced block after its heading")
	}
	// and examples/pam-accesscontrol.conf is that file, comments aside
	shipped, err := os.ReadFile("../examples/pam-accesscontrol.conf")
	if err != nil {
		t.Fatal(err)
	}
	var rulesOnly []string
	for _, l := range strings.Split(string(shipped), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			rulesOnly = append(rulesOnly, l)
		}
	}
	if got := strings.Join(rulesOnly, "\n") + "\n"; got != example {
		t.Errorf("examples/pam-accesscontrol.conf is not the worked example:\n%s\nwant:\n%s", got, example)
	}
	cfg := parse(example)
	deps := rules.Deps{Groups: groups, Sessions: fakeSessions{list: []rules.Session{
		{User: "carol", Service: "sddm", Class: "user", State: "active"}}}}
	for _, tt := range []struct {
		name  string
		login rules.Login
		want  rules.Verdict
		line  int
	}{
		{"alice (admins) by password from 10.66.1.2", login("sshd", "alice", "10.66.1.2", pw), rules.Close, 3},
		{"alice by key from anywhere", login("sshd", "alice", "203.0.113.1", key), rules.Open, 2},
		{"carol (lp) by key", login("sshd", "carol", "203.0.113.1", key), rules.Ask, 4},
		{"bob (users) at sddm while carol (users) is logged in", login("sddm", "bob", "", no), rules.Close, 6},
	} {
		d := rules.Decide(context.Background(), cfg, tt.login, deps)
		if d.Verdict != tt.want || d.Rule == nil || d.Rule.Pos.Line != tt.line {
			t.Errorf("%s: %v by %v (%s); want %v by line %d", tt.name, d.Verdict, d.Source(), d.Reason, tt.want, tt.line)
		}
	}
}

// TestFailClosed: whatever the decision needs and cannot get, it denies
// with the error, and asks for nothing it does not need.
func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	open := "DEFAULT:OPEN\n"
	tests := []struct {
		name  string
		conf  string
		deps  rules.Deps
		login rules.Login
		err   string // "" when it must not fail
	}{
		{"unknown user, a GROUP rule", open + "SSHD CLOSE GROUP contractors", rules.Deps{Groups: groups}, login("sshd", "mallory", "", pw), "no such user in NSS"},
		{"no group source", open + "SSHD CLOSE GROUP contractors", rules.Deps{}, login("sshd", "alice", "", pw), "no group source"},
		{"USER rules need no groups", open + "SSHD CLOSE USER bob", rules.Deps{}, login("sshd", "mallory", "", pw), ""},
		{"GROUP ALL needs no groups", "SSHD OPEN GROUP ALL", rules.Deps{}, login("sshd", "mallory", "", pw), ""},
		{"sessions fail", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:5", rules.Deps{Groups: groups, Sessions: fakeSessions{err: errors.New("logind timed out")}},
			login("sddm", "bob", "", no), "logind timed out"},
		{"a logged-in user unknown to NSS", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP users:5", rules.Deps{Groups: groups, Sessions: fakeSessions{list: []rules.Session{session("ghost")}}},
			login("sddm", "bob", "", no), "ghost"},
		{"sessions not needed when no entry applies", "SDDM OPEN GROUP users\nSDDM NUMBER GROUP lp:0", rules.Deps{Groups: groups, Sessions: fakeSessions{err: errors.New("down")}},
			login("sddm", "bob", "", no), ""},
		{"a plugin rule without plugins", open + "SSHD officehours USER alice", rules.Deps{}, login("sshd", "alice", "", pw), "cannot run here"},
	}
	for _, tt := range tests {
		cfg := parse(tt.conf)
		if strings.Contains(tt.conf, "officehours") {
			cfg = withPlugin(t, tt.conf, "officehours")
		}
		d := rules.Decide(ctx, cfg, tt.login, tt.deps)
		if tt.err == "" {
			if d.Err != nil {
				t.Errorf("%s: %v", tt.name, d.Err)
			}
			continue
		}
		if d.Verdict != rules.Close || d.Err == nil || !strings.Contains(d.Err.Error(), tt.err) || d.Source() != "error" {
			t.Errorf("%s: %v, err %v; want CLOSE with %q", tt.name, d.Verdict, d.Err, tt.err)
		}
	}
}

// TestRefusedConfig: a config with a fatal problem closes every login.
func TestRefusedConfig(t *testing.T) {
	cfg := parse("DEFAULT:OPEN\nSSHD OPEN USER alice")
	cfg.Problems = append(cfg.Problems, rules.Problem{Pos: rules.Pos{File: "x.conf"}, Severity: rules.Fatal, Message: "writable by others"})
	d := rules.Decide(context.Background(), cfg, login("sshd", "alice", "", pw), rules.Deps{})
	if d.Verdict != rules.Close || d.Err == nil || !strings.Contains(d.Reason, "writable by others") {
		t.Fatalf("%v: %s", d.Verdict, d.Reason)
	}
}

func TestPlugins(t *testing.T) {
	conf := "DEFAULT:CLOSE\nSSHD p1 GROUP users\nSSHD p2 USER alice\nSSHD OPEN USER bob\n"
	tests := []struct {
		answers map[string]string
		user    string
		want    rules.Verdict
		line    int
		called  string
	}{
		{map[string]string{"p1": "OPEN"}, "alice", rules.Open, 2, "p1,p2"},
		{map[string]string{"p1": "OPEN", "p2": "CLOSE"}, "alice", rules.Close, 3, "p1,p2"},
		{map[string]string{"p2": "ASK"}, "alice", rules.Ask, 3, "p1,p2"},
		{map[string]string{}, "alice", rules.Close, 0, "p1,p2"},         // no opinions: DEFAULT
		{map[string]string{"p1": "CLOSE"}, "bob", rules.Close, 2, "p1"}, // CLOSE beats the OPEN rule
		{map[string]string{}, "dave", rules.Close, 0, ""},               // no plugin applies to dave
	}
	for _, tt := range tests {
		var called []string
		cfg := withPlugin(t, conf, "p1", "p2")
		d := rules.Decide(context.Background(), cfg, login("sshd", tt.user, "1.2.3.4", pw),
			rules.Deps{Groups: groups, Plugins: fakePlugins{answers: tt.answers, called: &called}})
		line := 0
		if d.Rule != nil {
			line = d.Rule.Pos.Line
		}
		if d.Verdict != tt.want || line != tt.line || strings.Join(called, ",") != tt.called {
			t.Errorf("%v for %s: %v by line %d, called %v (%s); want %v by %d, called %s",
				tt.answers, tt.user, d.Verdict, line, called, d.Reason, tt.want, tt.line, tt.called)
		}
	}

	// not asked when a CLOSE rule already applies
	var called []string
	cfg := withPlugin(t, "SSHD CLOSE USER alice\nSSHD p1 USER alice", "p1")
	d := rules.Decide(context.Background(), cfg, login("sshd", "alice", "", pw),
		rules.Deps{Groups: groups, Plugins: fakePlugins{answers: map[string]string{"p1": "OPEN"}, called: &called}})
	if d.Verdict != rules.Close || len(called) != 0 {
		t.Errorf("plugin asked although CLOSE applies: %v, %v", d.Verdict, called)
	}
	// a plugin error fails closed
	cfg = withPlugin(t, "DEFAULT:OPEN\nSSHD p1 USER alice", "p1")
	d = rules.Decide(context.Background(), cfg, login("sshd", "alice", "", pw),
		rules.Deps{Groups: groups, Plugins: fakePlugins{answers: map[string]string{"p1": "error"}, called: &called}})
	if d.Verdict != rules.Close || d.Err == nil || !strings.Contains(d.Err.Error(), "t.conf:2: plugin p1: plugin failed") {
		t.Errorf("plugin error: %v, %v", d.Verdict, d.Err)
	}
}

func TestRecheckNumber(t *testing.T) {
	cfg := parse("SSH ASK GROUP lp\nSSH NUMBER GROUP lp:1")
	l := login("sshd", "carol", "1.2.3.4", key)
	if d := rules.RecheckNumber(context.Background(), cfg, l, rules.Deps{Groups: groups, Sessions: fakeSessions{}}); d.Verdict != rules.Open {
		t.Errorf("room: %v (%s)", d.Verdict, d.Reason)
	}
	groups2 := fakeGroups{"carol": {"lp"}, "zed": {"lp"}}
	d := rules.RecheckNumber(context.Background(), cfg, l, rules.Deps{Groups: groups2, Sessions: fakeSessions{list: []rules.Session{session("zed")}}})
	if d.Verdict != rules.Close || d.Rule == nil || d.Rule.Pos.Line != 2 {
		t.Errorf("full while the owner decided: %v (%s)", d.Verdict, d.Reason)
	}
}

// withPlugin parses conf with plugin files for names.
func withPlugin(t *testing.T, conf string, names ...string) *rules.Config {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := writeFile(dir+"/"+n+".star", "def decide(ctx):\n    return None\n"); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rules.Parse("t.conf", []byte(conf), rules.ParseOptions{PluginDir: dir})
	if len(cfg.Problems) != 0 {
		t.Fatalf("problems: %v", cfg.Problems)
	}
	return cfg
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

func TestPendingVerdicts(t *testing.T) {
	cfg := rules.Parse("t.conf", []byte("SSHD ASK USER carol\nSSHD PIN USER pia\nSSHD PINGPG USER gus\nSSHD OPEN USER olga\n"), rules.ParseOptions{})
	for _, tc := range []struct {
		user    string
		verdict rules.Verdict
		pending bool
	}{{"carol", rules.Ask, true}, {"pia", rules.Pin, true}, {"gus", rules.PinGPG, true}, {"olga", rules.Open, false}} {
		d := rules.Explain(context.Background(), cfg, rules.Login{Service: "sshd", User: tc.user, Auth: rules.AuthPassword}, rules.Deps{})
		if d.Verdict != tc.verdict || d.Verdict.Pending() != tc.pending {
			t.Fatalf("%s: %v (pending %v)", tc.user, d.Verdict, d.Verdict.Pending())
		}
		// the reason names the rule only: the helper adds what the person did
		if want := tc.verdict.String() + " rule (user " + strconv.Quote(tc.user) + " is listed)"; d.Reason != want {
			t.Errorf("%s: reason %q, want %q", tc.user, d.Reason, want)
		}
		last := d.Trace[len(d.Trace)-1].Text
		if tc.pending != strings.HasSuffix(last, "; "+tc.verdict.Note()) || tc.pending == (tc.verdict.Note() == "") {
			t.Errorf("%s: trace ends %q", tc.user, last)
		}
	}
}
