package rules_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestRemoteAddr: what counts as an address in PAM_RHOST. Exactly what
// netip.ParseAddr reads (as before HOST_NAMES existed), zone dropped,
// IPv4-mapped unmapped; whatever else only looks like an address is not one.
func TestRemoteAddr(t *testing.T) {
	for _, tt := range []struct {
		rhost string
		want  string // "" when not an address
	}{
		{"10.0.0.1", "10.0.0.1"},
		{"2001:db8::1", "2001:db8::1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"::ffff:10.0.0.1%eth0", "10.0.0.1"},
		{"fe80::1%eth0", "fe80::1"},
		{"::1", "::1"},
		{"::10.0.0.1", "::a00:1"}, // IPv4-compatible is not IPv4-mapped
		{"", ""},
		{"10.0.0.1.evil.example", ""},
		{"[10.0.0.1]", ""},
		{"[::1]", ""},
		{"10.0.0.1.", ""},
		{" 10.0.0.1", ""},
		{"10.0.0.1 ", ""},
		{"10.0.0.1%eth0", ""},
		{"fe80::1%", ""},
		{"010.0.0.1", ""},
		{"10.1", ""},
		{"0x0a000001", ""},
		{"10.0.0.1:22", ""},
		{"gw.example.com", ""},
	} {
		addr, ok := rules.RemoteAddr(tt.rhost)
		if ok != (tt.want != "") || ok && addr != netip.MustParseAddr(tt.want) {
			t.Errorf("RemoteAddr(%q) = %v, %v; want %q", tt.rhost, addr, ok, tt.want)
		}
	}
}

// TestHostNames is docs/rules.md's "Remote host names (fix)": an RHOST that is
// not an address lets no login in by name and does not dodge a CLOSE by
// address or network, unless HOST_NAMES:TRUST; an RHOST that is an address
// or empty is decided as before, whatever the setting.
func TestHostNames(t *testing.T) {
	const (
		trust = "HOST_NAMES:TRUST\n"
		open  = "DEFAULT:OPEN\n"
		evil  = "evil.example.com"
	)
	tests := []struct {
		name     string
		conf     string
		login    rules.Login
		approved fakeApprovals
		want     rules.Verdict
		line     int    // of the deciding rule; 0 for DEFAULT
		reason   string // in the reason, when set
		trace    string // in the explain trace, when set
	}{
		// CLOSE errs toward matching
		{"name vs CIDR CLOSE", open + "SSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", evil, pw), nil, rules.Close, 2,
			`CLOSE rule (remote host "evil.example.com" is not an address, so it may be in 10.66.0.0/16: a CLOSE applies to it)`, ""},
		{"name vs address CLOSE", open + "SSHD CLOSE HOST 192.0.2.1", login("sshd", "alice", evil, pw), nil, rules.Close, 2,
			"so it may be 192.0.2.1", ""},
		{"name vs IPv6 CIDR CLOSE", open + "SSHD CLOSE HOST 2001:db8::/32", login("sshd", "alice", evil, pw), nil, rules.Close, 2, "", ""},
		{"name vs name CLOSE: names still match CLOSE", open + "SSHD CLOSE HOST evil.example.com", login("sshd", "alice", "Evil.Example.COM.", pw), nil, rules.Close, 2,
			"matches evil.example.com by name", ""},
		{"name vs another name's CLOSE", open + "SSHD CLOSE HOST other.example.com", login("sshd", "alice", evil, pw), nil, rules.Open, 0, "", ""},
		{"name vs CLOSE: the name entry is the reason", open + "SSHD CLOSE HOST 10.0.0.0/8,evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Close, 2,
			"matches evil.example.com by name", ""},
		{"name vs CIDR CLOSE beats OPEN by user", "SSHD OPEN USER alice\nSSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", evil, pw), nil, rules.Close, 2, "", ""},
		{"name vs CIDR CLOSE of vsftpd", open + "VSFTPD CLOSE HOST 10.0.0.0/8", login("vsftpd", "alice", evil, no), nil, rules.Close, 2, "", ""},
		{"name vs LOCAL CLOSE", open + "SSHD CLOSE HOST LOCAL", login("sshd", "alice", evil, pw), nil, rules.Open, 0, "", ""},
		// OPEN errs toward not matching
		{"name vs name OPEN", "SSHD OPEN HOST evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Close, 0,
			`no rule lets the login in (t.conf:1: remote host "evil.example.com" is the name evil.example.com, which whoever controls the PTR record of the client's address can claim; a name opens nothing without HOST_NAMES:TRUST); DEFAULT:CLOSE (built-in)`,
			`t.conf:1 SSHD OPEN HOST evil.example.com: does not apply, remote host "evil.example.com" is the name`},
		{"name vs name OPEN with HOST_NAMES:TRUST", trust + "SSHD OPEN HOST evil.example.com", login("sshd", "alice", "EVIL.example.com.", pw), nil, rules.Open, 2,
			`OPEN rule (remote host "EVIL.example.com." matches evil.example.com)`, "HOST_NAMES:TRUST: it matches name entries only"},
		{"name vs CIDR OPEN", "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "so it may be in 10.0.0.0/8", ""},
		{"name vs CIDR OPEN with HOST_NAMES:TRUST", trust + "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "no rule applies",
			"is not listed (it is not an address, and addresses and networks match addresses only)"},
		{"name vs mixed OPEN list", "SSHD OPEN HOST 10.0.0.0/8,evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "HOST_NAMES:TRUST", ""},
		{"HOST_NAMES:DISTRUST after TRUST", trust + "HOST_NAMES:DISTRUST\nSSHD OPEN HOST evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "",
			"HOST_NAMES:DISTRUST (the default)"},
		// HOST_NAMES:TRUST is the behaviour before the fix: networks do not match names
		{"name vs CIDR CLOSE with HOST_NAMES:TRUST", trust + open + "SSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", evil, pw), nil, rules.Open, 0, "", ""},
		{"name vs name CLOSE with HOST_NAMES:TRUST", trust + open + "SSHD CLOSE HOST evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Close, 3,
			`CLOSE rule (remote host "evil.example.com" matches evil.example.com)`, ""},
		// ASK, PIN, PINGPG: never let in what would be closed; may replace an OPEN
		{"name vs name ASK", "SSHD ASK HOST evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "HOST_NAMES:TRUST",
			"applies only in place of an OPEN"},
		{"name vs CIDR ASK", "SSHD ASK HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "", ""},
		{"name vs name ASK with HOST_NAMES:TRUST", trust + "SSHD ASK HOST evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Ask, 2, "", ""},
		{"name vs name PIN", "SSHD PIN HOST evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "", ""},
		{"name vs CIDR PINGPG", "SSHD PINGPG HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "", ""},
		{"name vs CIDR PIN replaces an OPEN rule", "SSHD OPEN USER alice\nSSHD PIN HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Pin, 2,
			`PIN rule (remote host "evil.example.com" is not an address, so it may be in 10.0.0.0/8; a name opens nothing without HOST_NAMES:TRUST, so PIN may only replace an OPEN), in place of OPEN rule t.conf:1 (user "alice" is listed)`, ""},
		{"name vs CIDR PIN replaces DEFAULT:OPEN", open + "SSHD PIN HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Pin, 2, "in place of DEFAULT:OPEN (t.conf:1)", ""},
		{"name vs name ASK replaces an OPEN", "SSHD OPEN GROUP users\nSSHD ASK HOST evil.example.com", login("sshd", "alice", evil, pw), nil, rules.Ask, 2, "in place of OPEN rule t.conf:1", ""},
		{"the strictest replaces the OPEN", "SSHD OPEN GROUP users\nSSHD ASK HOST 10.0.0.0/8\nSSHD PINGPG HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.PinGPG, 3, "", ""},
		{"a sure ASK beats an unsure PIN", "SSHD OPEN GROUP users\nSSHD ASK USER alice\nSSHD PIN HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Ask, 2, "", ""},
		{"an unsure ASK outside SSH is CLOSE", open + "VSFTPD ASK HOST 10.0.0.0/8", login("vsftpd", "alice", evil, no), nil, rules.Close, 2, "ASK is only for SSH logins", ""},
		{"an unsure PIN does not replace a CLOSE", "SSHD CLOSE USER alice\nSSHD PIN HOST 10.0.0.0/8", login("sshd", "alice", evil, pw), nil, rules.Close, 1, "", ""},
		// approvals are by RHOST: a name could be another host's
		{"ASK again from an approved name is asked", "SSH ASK GROUP lp", login("sshd", "carol", "laptop.example.com", key), fakeApprovals{"carol@laptop.example.com": true}, rules.Ask, 1, "",
			"approved sessions not looked up"},
		{"ASK again from an approved name with HOST_NAMES:TRUST", trust + "SSH ASK GROUP lp", login("sshd", "carol", "laptop.example.com", key), fakeApprovals{"carol@laptop.example.com": true}, rules.Open, 2, "already approved", ""},
		{"ASK again from an approved address", "SSH ASK GROUP lp", login("sshd", "carol", "10.0.0.7", key), fakeApprovals{"carol@10.0.0.7": true}, rules.Open, 1, "already approved", ""},
		// USER and GROUP rules are not about hosts
		{"name vs OPEN by user", "SSHD OPEN USER alice", login("sshd", "alice", evil, pw), nil, rules.Open, 1, "", ""},
		// LOCAL (empty RHOST) is unchanged
		{"LOCAL vs LOCAL OPEN", "TTY OPEN HOST LOCAL", login("login", "alice", "", no), nil, rules.Open, 1, "", ""},
		{"LOCAL vs CIDR CLOSE", open + "ALL CLOSE HOST 0.0.0.0/0,::/0", login("login", "alice", "", no), nil, rules.Open, 0, "", ""},
		{"LOCAL vs name CLOSE", open + "ALL CLOSE HOST evil.example.com", login("login", "alice", "", no), nil, rules.Open, 0, "", ""},
		{"name vs LOCAL OPEN", "SSHD OPEN HOST LOCAL", login("sshd", "alice", evil, pw), nil, rules.Close, 0, "no rule applies;", ""},
		// an RHOST that is an address is unchanged, whatever HOST_NAMES says
		{"address vs CIDR CLOSE", open + "SSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", "10.66.1.2", pw), nil, rules.Close, 2, "matches 10.66.0.0/16", ""},
		{"address outside CIDR CLOSE", open + "SSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", "10.67.1.2", pw), nil, rules.Open, 0, "", ""},
		{"address outside CIDR CLOSE with HOST_NAMES:TRUST", trust + open + "SSHD CLOSE HOST 10.66.0.0/16", login("sshd", "alice", "10.67.1.2", pw), nil, rules.Open, 0, "", ""},
		{"address vs name OPEN", "SSHD OPEN HOST localhost", login("sshd", "alice", "127.0.0.1", pw), nil, rules.Close, 0, "no rule applies;", ""},
		{"address vs name OPEN with HOST_NAMES:TRUST", trust + "SSHD OPEN HOST localhost", login("sshd", "alice", "127.0.0.1", pw), nil, rules.Close, 0, "", ""},
		{"address vs name CLOSE", open + "SSHD CLOSE HOST evil.example.com", login("sshd", "alice", "10.0.0.1", pw), nil, rules.Open, 0, "", ""},
		{"v4-mapped address vs CIDR OPEN", "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", "::ffff:10.0.0.1", pw), nil, rules.Open, 1, "", ""},
		{"v4-mapped address vs CIDR CLOSE", open + "SSHD CLOSE HOST 10.0.0.0/8", login("sshd", "alice", "::ffff:10.0.0.1", pw), nil, rules.Close, 2, "", ""},
		{"zoned address vs CIDR OPEN", "SSHD OPEN HOST fe80::/10", login("sshd", "alice", "fe80::1%eth0", pw), nil, rules.Open, 1, "", ""},
		{"zoned address vs address OPEN", "SSHD OPEN HOST fe80::1", login("sshd", "alice", "fe80::1%eth0", pw), nil, rules.Open, 1, "", ""},
		// what only looks like an address is not one
		{"address-like name vs CIDR OPEN", "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", "10.0.0.1.evil.example.com", pw), nil, rules.Close, 0, "", ""},
		{"address-like name vs CIDR CLOSE", open + "SSHD CLOSE HOST 10.0.0.0/8", login("sshd", "alice", "10.0.0.1.evil.example.com", pw), nil, rules.Close, 2, "", ""},
		{"bracketed address vs CIDR OPEN", "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", "[10.0.0.1]", pw), nil, rules.Close, 0, "", ""},
		{"bracketed address vs another CIDR CLOSE", open + "SSHD CLOSE HOST 192.168.0.0/16", login("sshd", "alice", "[10.0.0.1]", pw), nil, rules.Close, 2, "", ""},
		{"trailing dot vs address OPEN", "SSHD OPEN HOST 10.0.0.1", login("sshd", "alice", "10.0.0.1.", pw), nil, rules.Close, 0, "", ""},
		{"trailing dot vs address CLOSE", open + "SSHD CLOSE HOST 10.0.0.1", login("sshd", "alice", "10.0.0.1.", pw), nil, rules.Close, 2, "", ""},
		{"blanks vs CIDR OPEN", "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", " 10.0.0.1 ", pw), nil, rules.Close, 0, "", ""},
		{"blanks vs CIDR CLOSE", open + "SSHD CLOSE HOST 10.0.0.0/8", login("sshd", "alice", "10.0.0.1 ", pw), nil, rules.Close, 2, "", ""},
		{"IPv4 with a zone vs CIDR OPEN", "SSHD OPEN HOST 10.0.0.0/8", login("sshd", "alice", "10.0.0.1%eth0", pw), nil, rules.Close, 0, "", ""},
		{"a lone dot vs CIDR CLOSE", open + "SSHD CLOSE HOST 10.0.0.0/8", login("sshd", "alice", ".", pw), nil, rules.Close, 2, "", ""},
		{"a control character is quoted", "SSHD OPEN HOST evil.example.com", login("sshd", "alice", "evil.example.com\n", pw), nil, rules.Close, 0, "", `"evil.example.com\n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parse(tt.conf)
			if len(cfg.Problems) != 0 {
				t.Fatalf("problems: %v", cfg.Problems)
			}
			deps := rules.Deps{Groups: groups, Sessions: fakeSessions{}}
			if tt.approved != nil {
				deps.Approvals = tt.approved
			}
			d := rules.Explain(context.Background(), cfg, tt.login, deps)
			line := 0
			if d.Rule != nil {
				line = d.Rule.Pos.Line
			}
			if d.Verdict != tt.want || line != tt.line || d.Err != nil {
				t.Fatalf("%v by line %d (%s, err %v); want %v by line %d", d.Verdict, line, d.Reason, d.Err, tt.want, tt.line)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q\nwant it to contain %q", d.Reason, tt.reason)
			}
			var trace []string
			for _, s := range d.Trace {
				trace = append(trace, s.Pos.String()+" "+s.Text)
			}
			if all := strings.Join(trace, "\n"); !strings.Contains(all, tt.trace) {
				t.Errorf("trace:\n%s\nwant it to contain %q", all, tt.trace)
			}
			if d2 := rules.Decide(context.Background(), cfg, tt.login, deps); d2.Verdict != d.Verdict || d2.Reason != d.Reason {
				t.Errorf("Decide says %v (%s), Explain %v (%s)", d2.Verdict, d2.Reason, d.Verdict, d.Reason)
			}
		})
	}
}

// TestHostNamesPlugins: a plugin rule that names a name RHOST only by a
// HOST entry is asked, but its OPEN does not count and its ASK only
// replaces an OPEN; its CLOSE does.
func TestHostNamesPlugins(t *testing.T) {
	const evil = "evil.example.com"
	tests := []struct {
		conf   string
		rhost  string
		answer string
		want   rules.Verdict
		line   int
		called bool
	}{
		{"SSHD p1 HOST 10.0.0.0/8", evil, "OPEN", rules.Close, 0, true},
		{"SSHD p1 HOST 10.0.0.0/8", evil, "CLOSE", rules.Close, 1, true},
		{"SSHD p1 HOST evil.example.com", evil, "OPEN", rules.Close, 0, true},
		{"SSHD p1 HOST evil.example.com", evil, "ASK", rules.Close, 0, true},
		{"SSHD OPEN USER alice\nSSHD p1 HOST evil.example.com", evil, "ASK", rules.Ask, 2, true},
		{"SSHD OPEN USER alice\nSSHD p1 HOST 10.0.0.0/8", evil, "OPEN", rules.Open, 1, true},
		{"HOST_NAMES:TRUST\nSSHD p1 HOST evil.example.com", evil, "OPEN", rules.Open, 2, true},
		{"HOST_NAMES:TRUST\nSSHD p1 HOST 10.0.0.0/8", evil, "CLOSE", rules.Close, 0, false},
		{"SSHD p1 HOST 10.0.0.0/8", "10.1.2.3", "OPEN", rules.Open, 1, true},
		{"SSHD p1 HOST 10.0.0.0/8", "192.0.2.1", "CLOSE", rules.Close, 0, false},
	}
	for _, tt := range tests {
		var called []string
		cfg := withPlugin(t, tt.conf, "p1")
		d := rules.Explain(context.Background(), cfg, login("sshd", "alice", tt.rhost, pw),
			rules.Deps{Groups: groups, Plugins: fakePlugins{answers: map[string]string{"p1": tt.answer}, called: &called}})
		line := 0
		if d.Rule != nil {
			line = d.Rule.Pos.Line
		}
		if d.Verdict != tt.want || line != tt.line || (len(called) > 0) != tt.called || d.Err != nil {
			t.Errorf("%q from %s, plugin %s: %v by line %d, called %v (%s); want %v by line %d, called %v",
				tt.conf, tt.rhost, tt.answer, d.Verdict, line, called, d.Reason, tt.want, tt.line, tt.called)
		}
	}
}
