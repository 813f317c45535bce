package rules_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func TestOIDCSettings(t *testing.T) {
	for _, c := range []struct {
		name, line string
		ok         func(rules.OIDCSettings) bool
		problem    string
	}{
		{"defaults", "DEBUG:FALSE", func(o rules.OIDCSettings) bool {
			return o.Timeout == 5*time.Second && o.Cache == 60*time.Second && o.Fallback == rules.OIDCFallbackClose && o.UserClaim == ""
		}, ""},
		{"issuer", "OIDC_ISSUER:https://sso.example.com/realms/x", func(o rules.OIDCSettings) bool {
			return o.Issuer == "https://sso.example.com/realms/x" && o.IssuerPos.Line == 1
		}, ""},
		{"issuer loopback http", "OIDC_ISSUER:http://127.0.0.1:9000", func(o rules.OIDCSettings) bool { return o.Issuer == "http://127.0.0.1:9000" }, ""},
		{"issuer plain http", "OIDC_ISSUER:http://sso.example.com/", func(o rules.OIDCSettings) bool { return o.Issuer == "" }, "plain http"},
		{"issuer query", "OIDC_ISSUER:https://sso.example.com/?a=b", func(o rules.OIDCSettings) bool { return o.Issuer == "" }, "query"},
		{"introspection", "OIDC_INTROSPECTION:https://sso.example.com/oauth2/introspect", func(o rules.OIDCSettings) bool {
			return o.Introspection == "https://sso.example.com/oauth2/introspect"
		}, ""},
		{"introspection with password", "OIDC_INTROSPECTION:https://id:secret@sso.example.com/i", func(o rules.OIDCSettings) bool { return o.Introspection == "" }, "user information"},
		{"client id", "OIDC_CLIENT_ID:pam-access", func(o rules.OIDCSettings) bool { return o.ClientID == "pam-access" }, ""},
		{"client secret", "OIDC_CLIENT_SECRET:/etc/security/oidc.secret", func(o rules.OIDCSettings) bool { return o.ClientSecret == "/etc/security/oidc.secret" }, ""},
		{"client secret inline", "OIDC_CLIENT_SECRET:hunter2", func(o rules.OIDCSettings) bool { return o.ClientSecret == "" }, "absolute path"},
		{"scope", "OIDC_SCOPE:pam", func(o rules.OIDCSettings) bool { return o.Scope == "pam" }, ""},
		{"timeout", "OIDC_TIMEOUT:2", func(o rules.OIDCSettings) bool { return o.Timeout == 2*time.Second }, ""},
		{"timeout bad", "OIDC_TIMEOUT:0", func(o rules.OIDCSettings) bool { return o.Timeout == 5*time.Second }, "from 1 to 60"},
		{"claim", "OIDC_USER_CLAIM:preferred_username", func(o rules.OIDCSettings) bool { return o.UserClaim == "preferred_username" }, ""},
		{"claim bad", "OIDC_USER_CLAIM:a/b", func(o rules.OIDCSettings) bool { return o.UserClaim == "" }, "claim name"},
		{"cache", "OIDC_CACHE:30", func(o rules.OIDCSettings) bool { return o.Cache == 30*time.Second }, ""},
		{"cache off", "OIDC_CACHE:OFF", func(o rules.OIDCSettings) bool { return o.Cache == 0 }, ""},
		{"cache too long", "OIDC_CACHE:86400", func(o rules.OIDCSettings) bool { return o.Cache == 60*time.Second }, "1 to 3600"},
		{"fallback cache", "OIDC_FALLBACK:cache", func(o rules.OIDCSettings) bool { return o.Fallback == rules.OIDCFallbackCache }, ""},
		{"fallback open refused", "OIDC_FALLBACK:OPEN", func(o rules.OIDCSettings) bool { return o.Fallback == rules.OIDCFallbackClose }, "anything typed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := rules.Parse("/etc/pam-accesscontrol.conf", []byte(c.line+"\n"), rules.ParseOptions{})
			if !c.ok(cfg.Settings.OIDC) {
				t.Errorf("%s: settings %+v", c.line, cfg.Settings.OIDC)
			}
			var got string
			for _, p := range cfg.Problems {
				got += p.String() + "\n"
			}
			if c.problem == "" && got != "" || c.problem != "" && !strings.Contains(got, c.problem) {
				t.Errorf("%s: problems %q, want %q", c.line, got, c.problem)
			}
			if c.problem != "" && !strings.Contains(got, "/etc/pam-accesscontrol.conf:1:") {
				t.Errorf("problem without file:line: %q", got)
			}
			if strings.Contains(got, "hunter2") && !strings.Contains(c.line, "hunter2") || strings.Contains(got, "secret@") {
				t.Errorf("a secret in a problem: %q", got)
			}
		})
	}
}

const oidcConf = "OIDC_ISSUER:https://sso.example.com\nOIDC_CLIENT_ID:pam\nOIDC_CLIENT_SECRET:/etc/oidc.secret\n"

func TestTokenDecision(t *testing.T) {
	for _, c := range []struct {
		name, conf string
		login      rules.Login
		verdict    rules.Verdict
		then       rules.Verdict
		reason     string
	}{
		{"token rule alone opens with a token", oidcConf + "SSHD TOKEN GROUP users\n", login("sshd", "bob", "10.0.0.1", pw), rules.Token, rules.Open, "TOKEN rule"},
		{"not named: no token", oidcConf + "SSHD TOKEN USER carol\nSSHD OPEN USER bob\n", login("sshd", "bob", "10.0.0.1", pw), rules.Open, 0, "OPEN rule"},
		{"CLOSE beats TOKEN", oidcConf + "SSHD TOKEN GROUP users\nSSHD CLOSE USER bob\n", login("sshd", "bob", "10.0.0.1", pw), rules.Close, 0, "CLOSE rule"},
		{"ASK after TOKEN", oidcConf + "SSHD TOKEN GROUP users\nSSHD ASK USER bob\n", login("sshd", "bob", "10.0.0.1", pw), rules.Token, rules.Ask, "ASK rule"},
		{"PIN after TOKEN", oidcConf + "SSHD TOKEN GROUP users\nSSHD PIN USER bob\n", login("sshd", "bob", "10.0.0.1", pw), rules.Token, rules.Pin, "PIN rule"},
		{"OPEN rule still needs the token", oidcConf + "SSHD OPEN USER bob\nSSHD TOKEN GROUP users\n", login("sshd", "bob", "10.0.0.1", pw), rules.Token, rules.Open, "OPEN rule"},
		{"DEFAULT:OPEN still needs the token", oidcConf + "DEFAULT:OPEN\nSSHD TOKEN USER bob\nSSHD CLOSE USER carol\n", login("sshd", "bob", "10.0.0.1", pw), rules.Token, rules.Open, "TOKEN rule"},
		{"other service", oidcConf + "SSHD TOKEN GROUP users\n", login("login", "bob", "", no), rules.Close, 0, "DEFAULT:CLOSE"},
		{"key logins are SSHD-KEY's", oidcConf + "SSHD TOKEN GROUP users\n", login("sshd", "bob", "10.0.0.1", key), rules.Close, 0, "DEFAULT"},
		{"settings missing fail closed", "SSHD TOKEN GROUP users\n", login("sshd", "bob", "10.0.0.1", pw), rules.Close, 0, "OIDC_ISSUER (or OIDC_INTROSPECTION), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET is not set"},
		{"name rhost: a token rule by host opens nothing", oidcConf + "SSHD TOKEN HOST evil.example.com\n", login("sshd", "bob", "evil.example.com", pw), rules.Close, 0, "DEFAULT"},
		{"name rhost: still required", oidcConf + "DEFAULT:OPEN\nSSHD TOKEN HOST evil.example.com\n", login("sshd", "bob", "evil.example.com", pw), rules.Token, rules.Open, "TOKEN rule"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := rules.Parse("/c", []byte(c.conf), rules.ParseOptions{})
			d := rules.Decide(context.Background(), cfg, c.login, rules.Deps{Groups: groups, Sessions: fakeSessions{}, Approvals: fakeApprovals{}})
			if d.Verdict != c.verdict || d.Verdict == rules.Token && d.Then != c.then || !strings.Contains(d.Reason, c.reason) {
				t.Errorf("%v then %v (%s), want %v then %v (%q)", d.Verdict, d.Then, d.Reason, c.verdict, c.then, c.reason)
			}
			ex := rules.Explain(context.Background(), cfg, c.login, rules.Deps{Groups: groups, Sessions: fakeSessions{}, Approvals: fakeApprovals{}})
			if ex.Verdict != d.Verdict {
				t.Errorf("Explain says %v, Decide %v", ex.Verdict, d.Verdict)
			}
			r, err := rules.TokenRule(context.Background(), cfg, c.login, rules.Deps{Groups: groups})
			if err != nil {
				t.Fatal(err)
			}
			if d.Verdict == rules.Token && r == nil {
				t.Errorf("TokenRule says no TOKEN rule names a TOKEN login")
			}
		})
	}
}

func TestTokenRuleBroken(t *testing.T) {
	cfg := rules.Parse("/c", []byte(oidcConf+"SSHD TOKEN GROUP\nSSHD OPEN GROUP users\n"), rules.ParseOptions{})
	d := rules.Decide(context.Background(), cfg, login("sshd", "bob", "10.0.0.1", pw), rules.Deps{Groups: groups})
	if d.Verdict != rules.Close || d.Broken == nil {
		t.Errorf("a broken TOKEN line must refuse the logins of its service: %v %s", d.Verdict, d.Reason)
	}
}

// A broken OIDC_FALLBACK line after OIDC_FALLBACK:CACHE may have meant to
// restrict it: every login is refused until it is fixed.
func TestOIDCFallbackBroken(t *testing.T) {
	cfg := rules.Parse("/c", []byte(oidcConf+"OIDC_FALLBACK:CACHE\nOIDC_FALLBACK:CLSOE\nSSHD OPEN USER bob\n"), rules.ParseOptions{})
	d := rules.Decide(context.Background(), cfg, login("sshd", "bob", "10.0.0.1", pw), rules.Deps{Groups: groups})
	if d.Verdict != rules.Close || d.Broken == nil {
		t.Errorf("%v %s", d.Verdict, d.Reason)
	}
	cfg = rules.Parse("/c", []byte(oidcConf+"OIDC_FALLBACK:CLSOE\nSSHD OPEN USER bob\n"), rules.ParseOptions{})
	if d := rules.Decide(context.Background(), cfg, login("sshd", "bob", "10.0.0.1", pw), rules.Deps{Groups: groups}); d.Verdict != rules.Open {
		t.Errorf("a broken OIDC_FALLBACK over CLOSE refused: %s", d.Reason)
	}
}
