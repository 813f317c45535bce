package opa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// fakeOPA answers per data path: a JSON result, or an error.
type fakeOPA struct {
	results map[string]string
	errs    map[string]error
	inputs  map[string]string // what each path was sent
}

func (f *fakeOPA) Query(_ context.Context, path string, input any) (json.RawMessage, error) {
	data, _ := json.Marshal(input)
	if f.inputs == nil {
		f.inputs = map[string]string{}
	}
	f.inputs[path] = string(data)
	if err := f.errs[path]; err != nil {
		return nil, err
	}
	r, ok := f.results[path]
	if !ok {
		return nil, ErrUndefined
	}
	return json.RawMessage(r), nil
}

type memCache struct {
	open map[CacheKey]CachedOpen
	now  time.Time
}

func (c *memCache) LastOpen(k CacheKey, ttl time.Duration) (CachedOpen, bool) {
	o, ok := c.open[k]
	return o, ok && c.now.Sub(o.At) < ttl
}
func (c *memCache) SaveOpen(k CacheKey, noPrompts bool) error {
	c.open[k] = CachedOpen{At: c.now, NoPrompts: noPrompts}
	return nil
}
func (c *memCache) Forget(k CacheKey) error { delete(c.open, k); return nil }

// unprompted is a cached OPEN at, given without OPA's prompts.
func unprompted(at time.Time) CachedOpen { return CachedOpen{At: at, NoPrompts: true} }

type memLog struct{ lines []string }

func (l *memLog) Info(f string, a ...any)  { l.lines = append(l.lines, "info "+fmt.Sprintf(f, a...)) }
func (l *memLog) Error(f string, a ...any) { l.lines = append(l.lines, "err "+fmt.Sprintf(f, a...)) }

type groupsOf map[string][]string

func (g groupsOf) UserGroups(u string) ([]string, error) {
	if gs, ok := g[u]; ok {
		return gs, nil
	}
	return nil, errors.New("no such user")
}

const (
	readmeDisplay = `{"display_spec":[{"message":"Welcome to the OPA-PAM demonstration.","style":"info"},` +
		`{"message":"Please enter your last name: ","style":"prompt_echo_on","key":"last_name"},` +
		`{"message":"Please enter your secret: ","style":"prompt_echo_off","key":"secret"}]}`
	secret = "suresh"
)

type rig struct {
	opa    *fakeOPA
	cache  *memCache
	log    *memLog
	events []string
	said   []string
	d      *Decider
}

func newRig(authz string) *rig {
	r := &rig{opa: &fakeOPA{results: map[string]string{"display": readmeDisplay, "pull": `{"files":[],"env_vars":["LANG"]}`,
		"sshd/authz": authz}, errs: map[string]error{}},
		cache: &memCache{open: map[CacheKey]CachedOpen{}, now: time.Unix(1e9, 0)}, log: &memLog{}}
	answers := []string{"ramesh", secret}
	r.d = &Decider{
		Settings: rules.OPASettings{URL: "http://opa", Authz: "sshd/authz", Display: "display", Pull: "pull",
			Fallback: rules.Close, Cache: time.Minute, Timeout: time.Second},
		Query: r.opa, Config: "fp", Groups: groupsOf{"ops": {"ops", "wheel"}},
		Converse: func(style int, text string) (string, error) {
			r.said = append(r.said, fmt.Sprintf("%d %s", style, text))
			if style != pamconst.PromptEchoOn && style != pamconst.PromptEchoOff {
				return "", nil
			}
			a := answers[0]
			answers = answers[1:]
			return a, nil
		},
		Env:   func(n string) (string, bool, error) { return "C.UTF-8", n == "LANG", nil },
		Cache: r.cache, Log: r.log,
		Event: func(kind, verdict, reason string) { r.events = append(r.events, kind+" "+verdict+" "+reason) },
	}
	return r
}

var opsLogin = rules.Login{Service: "sshd", User: "ops", RHost: "192.0.2.7", RUser: "", Auth: rules.AuthPassword, TTY: "ssh"}

func (r *rig) decide(t *testing.T) (rules.OPAAnswer, error) {
	t.Helper()
	rule := &rules.Rule{Pos: rules.Pos{File: "r.conf", Line: 3}}
	return r.d.Decide(context.Background(), rule, opsLogin)
}

// everything says every line that may reach a log, the audit trail or a
// trace.
func (r *rig) everything(a rules.OPAAnswer) string {
	return strings.Join(append(append(append(r.log.lines, r.events...), a.Trace...), a.Why), "\n")
}

func TestDecideCycles(t *testing.T) {
	r := newRig(`{"allow":true,"errors":[]}`)
	a, err := r.decide(t)
	if err != nil || a.Option != rules.OptOpen {
		t.Fatalf("%+v %v", a, err)
	}
	want := []string{"4 Welcome to the OPA-PAM demonstration.", "2 Please enter your last name: ", "1 Please enter your secret: "}
	if strings.Join(r.said, "|") != strings.Join(want, "|") {
		t.Errorf("conversation %q", r.said)
	}
	var in Input
	json.Unmarshal([]byte(r.opa.inputs["sshd/authz"]), &in)
	if in.DisplayResponses["last_name"] != "ramesh" || in.DisplayResponses["secret"] != secret ||
		in.Sysinfo != (Sysinfo{PamUsername: "ops", PamService: "sshd", PamReqHostname: "192.0.2.7"}) ||
		in.PullResponses.EnvVars["LANG"] != "C.UTF-8" || in.AccessControl.Auth != "SSHD" || in.AccessControl.Method != "password" ||
		strings.Join(in.AccessControl.Groups, ",") != "ops,wheel" || in.AccessControl.Rule != "r.conf:3" || in.AccessControl.TTY != "ssh" {
		t.Errorf("authz input %s", r.opa.inputs["sshd/authz"])
	}
	if !strings.Contains(r.opa.inputs["display"], `"display_responses":{}`) || strings.Contains(r.opa.inputs["pull"], secret) {
		t.Errorf("display input %s, pull input %s", r.opa.inputs["display"], r.opa.inputs["pull"])
	}
	if strings.Contains(r.everything(a), secret) || !strings.Contains(r.everything(a), `"secret":"`+Mask+`"`) {
		t.Errorf("the secret shows, or the masked input does not:\n%s", r.everything(a))
	}
	if c, ok := r.cache.open[CacheKey{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"}]; !ok || c.NoPrompts {
		t.Errorf("OPEN not cached, or cached as given without prompts: %v", r.cache.open)
	}
}

// TestSecretNeverShown: a policy that echoes the secret back in its errors
// does not get it into the log.
func TestSecretNeverShown(t *testing.T) {
	r := newRig(`{"allow":false,"errors":["wrong secret suresh for ops", "x\"suresh\""]}`)
	a, err := r.decide(t)
	if err != nil || a.Option != rules.OptClose {
		t.Fatalf("%+v %v", a, err)
	}
	if all := r.everything(a); strings.Contains(all, secret) || !strings.Contains(all, "wrong secret "+Mask+" for ops") {
		t.Errorf("the secret shows, or the errors are not logged:\n%s", all)
	}
}

func TestDecideFailures(t *testing.T) {
	down := errors.New("connection refused")
	for _, tt := range []struct {
		name     string
		authz    string
		errs     map[string]error
		fallback rules.Verdict
		cached   bool
		want     rules.Option
		event    string
	}{
		{"authz down, fallback CLOSE", "", map[string]error{"sshd/authz": down}, rules.Close, false, rules.OptClose, "opa_fallback CLOSE"},
		{"display down, fallback OPEN", "", map[string]error{"display": down}, rules.Open, false, rules.OptOpen, "opa_fallback OPEN"},
		{"garbage allow", `{"allow":"yes"}`, nil, rules.Close, false, rules.OptClose, "opa_fallback CLOSE"},
		{"undefined authz", "", nil, rules.Close, false, rules.OptClose, "opa_fallback CLOSE"},
		{"garbage display", `{"allow":true}`, nil, rules.Close, false, rules.OptClose, "opa_fallback CLOSE"},
		{"down, cached OPEN stands", "", map[string]error{"sshd/authz": down, "display": down}, rules.Close, true, rules.OptOpen, "opa_cache OPEN"},
		{"pull down, cached OPEN stands", "", map[string]error{"pull": down, "display": down}, rules.Close, true, rules.OptOpen, "opa_cache OPEN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(tt.authz)
			if tt.authz == "" {
				delete(r.opa.results, "sshd/authz")
			}
			if tt.name == "garbage display" {
				r.opa.results["display"] = `{"display_spec":"nope"}`
			}
			for k, v := range tt.errs {
				r.opa.errs[k] = v
			}
			r.d.Settings.Fallback = tt.fallback
			if tt.cached {
				r.cache.open[CacheKey{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"}] = unprompted(r.cache.now.Add(-30 * time.Second))
			}
			a, err := r.decide(t)
			if err != nil || a.Option != tt.want {
				t.Fatalf("%+v %v", a, err)
			}
			if len(r.events) != 1 || !strings.HasPrefix(r.events[0], tt.event) {
				t.Errorf("events %q", r.events)
			}
			if n := len(r.log.lines); n != 1 {
				t.Errorf("%d log lines, want one:\n%s", n, strings.Join(r.log.lines, "\n"))
			}
		})
	}
}

// TestCacheRules: a CLOSE from OPA forgets the cached OPEN; another key,
// an old record or no cache setting never stands in.
func TestCacheRules(t *testing.T) {
	key := CacheKey{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"}
	r := newRig(`{"allow":false}`)
	r.cache.open[key] = unprompted(r.cache.now)
	if a, _ := r.decide(t); a.Option != rules.OptClose {
		t.Fatalf("%+v", a)
	}
	if _, ok := r.cache.open[key]; ok {
		t.Fatal("a CLOSE left the cached OPEN in place")
	}
	// the same with OPA down now: no OPEN to stand in
	r2 := newRig("")
	delete(r2.opa.results, "sshd/authz")
	r2.cache = r.cache
	r2.d.Cache = r.cache
	if a, _ := r2.decide(t); a.Option != rules.OptClose {
		t.Fatalf("after a CLOSE, OPA down: %+v", a)
	}
	for _, other := range []CacheKey{
		key, // the control: the same key's OPEN stands
		{Config: "fp", User: "dev", Service: "sshd", RHost: "192.0.2.7", Auth: "password"},
		{Config: "fp", User: "ops", Service: "sudo", RHost: "192.0.2.7", Auth: "password"},
		{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.8", Auth: "password"},
		{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "key"},
		{Config: "old", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"},
	} {
		r3 := downRig()
		r3.cache.open[other] = unprompted(r3.cache.now)
		if a, _ := r3.decide(t); (a.Option == rules.OptOpen) != (other == key) {
			t.Errorf("%+v's OPEN for %+v: %+v", other, key, a)
		}
	}
	r4 := downRig()
	r4.cache.open[key] = unprompted(r4.cache.now.Add(-2 * time.Minute))
	if a, _ := r4.decide(t); a.Option != rules.OptClose {
		t.Error("an OPEN older than OPA_CACHE stood")
	}
	r5 := downRig()
	r5.cache.open[key] = unprompted(r5.cache.now)
	r5.d.Settings.Cache = 0
	if a, _ := r5.decide(t); a.Option != rules.OptClose {
		t.Error("OPA_CACHE off, and the cached OPEN stood")
	}
}

// downRig is a rig whose OPA is out: every cycle's query fails.
func downRig() *rig {
	r := newRig("")
	for _, path := range []string{"display", "pull", "sshd/authz"} {
		r.opa.errs[path] = errors.New("connection refused")
	}
	return r
}

// TestCacheNoSkippedPrompt plays the user whose policy asks for an OTP
// (OPA's display cycle), logging in while OPA is out: a cached OPEN must
// not stand in for the prompt nobody asked, nor for answers nobody
// checked. Only an OPEN given without prompts stands in.
func TestCacheNoSkippedPrompt(t *testing.T) {
	key := CacheKey{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"}
	otpDisplay := `{"display_spec":[{"message":"OTP: ","style":"prompt_echo_off","key":"otp"}]}`
	infoDisplay := `{"display_spec":[{"message":"Welcome.","style":"info"}]}`

	// OPA up, its display cycle asks for the OTP: OPEN, cached as
	// given after prompts
	up := newRig(`{"allow":true}`)
	up.opa.results["display"] = otpDisplay
	if a, err := up.decide(t); err != nil || a.Option != rules.OptOpen {
		t.Fatalf("OPA up: %+v %v", a, err)
	}
	if c, ok := up.cache.open[key]; !ok || c.NoPrompts {
		t.Fatalf("cached %+v %v, want an OPEN marked as given after prompts", c, ok)
	}

	for _, tt := range []struct {
		name      string
		display   string // "" OPA's display query fails too
		cached    CachedOpen
		fallback  rules.Verdict
		want      rules.Option
		event     string
		why       string
		converses bool // the user is prompted
	}{
		{"OPA out, the cached OPEN was given after the OTP prompt", "", up.cache.open[key], rules.Close,
			rules.OptClose, "opa_fallback CLOSE", "does not stand in: it was given after OPA's display cycle asked", false},
		{"OPA out, a record that does not say (an older version's)", "", CachedOpen{At: up.cache.now}, rules.Close,
			rules.OptClose, "opa_fallback CLOSE", "does not stand in", false},
		{"display asks for the OTP, authz out, an OPEN from before without prompts", otpDisplay, unprompted(up.cache.now),
			rules.Close, rules.OptClose, "opa_fallback CLOSE", "does not stand in: OPA's display cycle asked this login", true},
		{"OPA_FALLBACK:OPEN is the admin's to choose", "", up.cache.open[key], rules.Open,
			rules.OptOpen, "opa_fallback OPEN", "OPA_FALLBACK:OPEN", false},
		{"display shows only a message, authz out, an OPEN without prompts", infoDisplay, unprompted(up.cache.now),
			rules.Close, rules.OptOpen, "opa_cache OPEN", "stands (OPA_CACHE:60)", false},
		{"OPA out, an OPEN without prompts", "", unprompted(up.cache.now), rules.Close,
			rules.OptOpen, "opa_cache OPEN", "stands (OPA_CACHE:60)", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := downRig()
			if tt.display != "" {
				delete(r.opa.errs, "display")
				r.opa.results["display"] = tt.display
			}
			r.d.Settings.Fallback = tt.fallback
			r.cache.open[key] = tt.cached
			a, err := r.decide(t)
			if err != nil || a.Option != tt.want {
				t.Fatalf("%+v %v, want %v", a, err, tt.want)
			}
			if len(r.events) != 1 || !strings.HasPrefix(r.events[0], tt.event) || !strings.Contains(r.events[0], tt.why) {
				t.Errorf("events %q, want one %q saying %q", r.events, tt.event, tt.why)
			}
			if n := len(r.log.lines); n != 1 || !strings.Contains(r.log.lines[0], tt.why) {
				t.Errorf("want one log line saying %q:\n%s", tt.why, strings.Join(r.log.lines, "\n"))
			}
			prompted := false
			for _, said := range r.said {
				prompted = prompted || strings.Contains(said, "OTP")
			}
			if prompted != tt.converses {
				t.Errorf("prompted %v, want %v: %q", prompted, tt.converses, r.said)
			}
			if strings.Contains(r.everything(a), secret) {
				t.Errorf("the answer shows:\n%s", r.everything(a))
			}
		})
	}

	// the policy stops prompting: its next OPEN stands in; it starts
	// again: its OPEN replaces the record, which stands in no more
	r := newRig(`{"allow":true}`)
	delete(r.opa.results, "display")
	if a, _ := r.decide(t); a.Option != rules.OptOpen || !r.cache.open[key].NoPrompts {
		t.Fatalf("no display: %+v, cached %+v", a, r.cache.open[key])
	}
	r.opa.results["display"] = otpDisplay
	if a, _ := r.decide(t); a.Option != rules.OptOpen || r.cache.open[key].NoPrompts {
		t.Fatalf("OTP display: %+v, cached %+v", a, r.cache.open[key])
	}
	// explain's --opa-answer answers are prompts too
	r = newRig(`{"allow":true}`)
	r.opa.results["display"] = otpDisplay
	r.d.Answers = map[string]string{"otp": "123456"}
	if a, _ := r.decide(t); a.Option != rules.OptOpen || r.cache.open[key].NoPrompts {
		t.Fatalf("--opa-answer: %+v, cached %+v", a, r.cache.open[key])
	}
}

// TestNotOPAsFailure: a user who cannot be prompted, or whose time ran
// out, is refused, never let in by OPA_FALLBACK:OPEN.
func TestNotOPAsFailure(t *testing.T) {
	r := newRig(`{"allow":true}`)
	r.d.Settings.Fallback = rules.Open
	r.d.Converse = func(int, string) (string, error) { return "", errors.New("conversation failed") }
	if _, err := r.decide(t); err == nil {
		t.Error("a failed prompt did not refuse")
	}
	// the user sits at OPA's prompt until the login's time is up
	r = newRig(`{"allow":true}`)
	r.d.Settings.Fallback = rules.Open
	r.opa.errs["sshd/authz"] = errors.New("deadline")
	ctx, cancel := context.WithCancel(context.Background())
	converse := r.d.Converse
	r.d.Converse = func(style int, text string) (string, error) {
		cancel()
		return converse(style, text)
	}
	if _, err := r.d.Decide(ctx, &rules.Rule{}, opsLogin); err == nil {
		t.Error("the login's time ran out at a prompt, and OPA_FALLBACK:OPEN let it in")
	}
	// OPA itself slower than the login's time, nobody prompted: OPA's
	// failure, the fallback's to decide
	r = newRig(`{"allow":true}`)
	delete(r.opa.results, "display")
	r.d.Settings.Fallback = rules.Open
	r.opa.errs["sshd/authz"] = errors.New("deadline")
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if a, err := r.d.Decide(ctx2, &rules.Rule{}, opsLogin); err != nil || a.Option != rules.OptOpen {
		t.Errorf("OPA slower than the login, no prompt: %+v %v", a, err)
	}
	r = newRig(`{"allow":true}`)
	r.d.Groups = groupsOf{}
	if _, err := r.decide(t); err == nil {
		t.Error("a user NSS does not know was asked about")
	}
	r = newRig(`{"allow":true}`)
	r.d.Settings.URL = ""
	if _, err := r.decide(t); err == nil {
		t.Error("no OPA_URL")
	}
}

// TestInputNames: the policy sees the account as NSS names it in
// sysinfo.pam_username, however the client spelt it, and the name as
// given under pam_accesscontrol.pam_user when the two differ.
func TestInputNames(t *testing.T) {
	r := newRig(`{"allow":true}`)
	l := opsLogin
	l.PAMUser = "OPS"
	if a, err := r.d.Decide(context.Background(), &rules.Rule{}, l); err != nil || a.Option != rules.OptOpen {
		t.Fatalf("%+v %v", a, err)
	}
	var in Input
	json.Unmarshal([]byte(r.opa.inputs["sshd/authz"]), &in)
	if in.Sysinfo.PamUsername != "ops" || in.AccessControl.PAMUser != "OPS" || strings.Join(in.AccessControl.Groups, ",") != "ops,wheel" {
		t.Errorf("input %s", r.opa.inputs["sshd/authz"])
	}
	r = newRig(`{"allow":true}`)
	r.decide(t)
	if strings.Contains(r.opa.inputs["sshd/authz"], "pam_user\"") {
		t.Errorf("pam_user sent although the names agree: %s", r.opa.inputs["sshd/authz"])
	}
}

// TestInputServerGroup: SERVER_GROUP is in every input under
// pam_accesscontrol.server_group, "default" when not set, and pam_authz's
// own keys stay as they are.
func TestInputServerGroup(t *testing.T) {
	for _, tc := range []struct{ set, want string }{{"", "default"}, {"web-eu", "web-eu"}} {
		r := newRig(`{"allow":true}`)
		r.d.ServerGroup = tc.set
		r.decide(t)
		var in map[string]map[string]any
		if err := json.Unmarshal([]byte(r.opa.inputs["sshd/authz"]), &in); err != nil {
			t.Fatal(err)
		}
		if got := in["pam_accesscontrol"]["server_group"]; got != tc.want {
			t.Errorf("SERVER_GROUP %q: server_group %v, want %q", tc.set, got, tc.want)
		}
		for _, k := range []string{"pam_username", "pam_service", "pam_req_username", "pam_req_hostname"} {
			if _, ok := in["sysinfo"][k]; !ok {
				t.Errorf("sysinfo.%s is gone", k)
			}
		}
	}
}
