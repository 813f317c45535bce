package rules_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// FuzzParse: no input makes the parser or a decision panic, every problem
// names a line of the input, and every kept rule is whole.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"DEFAULT:CLOSE\nSSH   OPEN   GROUP admins\nSSHD  CLOSE  HOST  10.66.0.0/16\nSSHD-KEY ASK GROUP lp\nSDDM  OPEN   GROUP users\nSDDM  NUMBER GROUP users:1\n",
		"SSHD OPEN USER bob, alice\nSSHD NUMBER GROUP users\nDEFAULT: OPEN\nSSH/D OPEN USER x\n",
		"\xef\xbb\xbfDEBUG:TRUE\r\nASK_TIMEOUT:30\r\nMAILSERVER:[::1]:25\r\n",
		"XDM CLOSE HOST ::ffff:10.0.0.1/104,LOCAL,gw.example.com.\nTTY PIN USER a\n# c\n  # d\nALL pingpg GROUPS ALL # x",
		"SSHD NUMBER GROUP a:1,b:2,c:x,,d:\n",
		"OPA_URL:http://127.0.0.1:8181\nOPA_AUTHZ:/v1/data/sshd/authz\nOPA_DISPLAY:display\nOPA_PULL:pull\nOPA_TIMEOUT:5\n" +
			"OPA_FALLBACK:OPEN\nOPA_CACHE:600\nOPA_PULL_FILES:/etc/host_identity.json,/etc/opa/\nSSHD OPA GROUP ALL\nSSH opa HOST 10.0.0.0/8\n",
		"OPA_URL:unix:/run/opa.sock\nOPA_URL:ftp://x\nOPA_AUTHZ:a..b\nOPA_CACHE:off\nOPA_PULL_FILES:/\nOPA_TIMEOUT:0\nALL OPA USER x\n",
		"HOST_NAMES:TRUST\nSSHD OPEN HOST gw.example.com,10.0.0.0/8\nSSHD PIN HOST 10.66.0.0/16\nhost_names:distrust\nSSH ASK HOST gw.example.com.\n",
		"DEFAULT:OPEN\nSSHD CLOSE USER alice bob\nDEFAULT:CLSOE\nDEFALUT: CLOSE\nCLOSE USER x\nSSH/D ASK GROUP lp\nXDM CLSOE GROUP a:b\nTTY NUMBER GROUP x:\n",
	} {
		f.Add([]byte(seed))
	}
	groups := fakeGroups{"alice": {"admins", "users", "lp"}}
	sessions := fakeSessions{list: []rules.Session{session("alice"), session("bob")}}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg := rules.Parse("f.conf", src, rules.ParseOptions{})
		lines := bytes.Count(src, []byte("\n")) + 1
		for _, p := range cfg.Problems {
			if p.Pos.Line < 1 || p.Pos.Line > lines || p.Pos.File != "f.conf" || p.Message == "" {
				t.Fatalf("problem %+v outside the input's %d lines", p, lines)
			}
		}
		for _, r := range cfg.Rules {
			if r.Pos.Line < 1 || r.Pos.Line > lines || r.Option < rules.OptOpen || r.Option > rules.OptOPA ||
				r.Target < rules.TargetUser || r.Target > rules.TargetHost ||
				len(r.Names)+len(r.Hosts)+len(r.Limits) == 0 {
				t.Fatalf("incomplete rule %+v", r)
			}
		}
		for _, l := range []rules.Login{
			{Service: "sshd", User: "alice", RHost: "10.66.1.2", Auth: rules.AuthPassword},
			{Service: "sddm", User: "alice", Auth: rules.AuthNone},
			{Service: "sshd", User: "alice", RHost: "GW.example.com.", Auth: rules.AuthKey},
		} {
			d := rules.Explain(context.Background(), cfg, l, rules.Deps{Groups: groups, Sessions: sessions})
			if d.Verdict < rules.Close || d.Verdict > rules.PinGPG {
				t.Fatalf("verdict %d", d.Verdict)
			}
			// a broken line that refuses the login is never overruled
			if p, refused := cfg.Refuses(l); refused && d.Verdict != rules.Close {
				t.Fatalf("%v under %v", d.Verdict, p)
			}
			// a name RHOST lets no login in by a HOST rule unless trusted
			if _, isAddr := rules.RemoteAddr(l.RHost); l.RHost != "" && !isAddr && !cfg.Settings.TrustHostNames &&
				d.Verdict == rules.Open && d.Rule != nil && d.Rule.Target == rules.TargetHost {
				t.Fatalf("name %q opened by %s (%s)", l.RHost, d.Rule.Pos, d.Reason)
			}
		}
	})
}
