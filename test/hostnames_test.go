package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// hostNamesCloseRules let carol in by user, except from 10.66.0.0/16;
// hostNamesNameRules list a host name.
const (
	hostNamesCloseRules = "DEFAULT:CLOSE\nSSHD CLOSE HOST 10.66.0.0/16\nSSHD OPEN USER carol\n"
	hostNamesNameRules  = "DEFAULT:CLOSE\nSSHD OPEN HOST trusted.example.com\n"
)

// TestHostNamesPAM is docs/rules.md's "Remote host names (fix)" through the
// real module: a PAM_RHOST that is a name (vsftpd's, sshd's with UseDNS
// yes) does not dodge a CLOSE by network and opens nothing by name, unless
// HOST_NAMES:TRUST; the log line says why.
func TestHostNamesPAM(t *testing.T) {
	const denied = "Access denied by pam-accesscontrol."
	tests := []struct {
		name  string
		conf  string
		rhost string
		user  string
		code  int
		log   []string // in the decision's log line
		trace string   // in a DEBUG trace line, when set
	}{
		{"a name vs a CLOSE by network", hostNamesCloseRules, "evil.example.com", "carol", 1,
			[]string{`auth: CLOSE for "carol" from "evil.example.com"`,
				`:3: CLOSE rule (remote host "evil.example.com" is not an address, so it may be in 10.66.0.0/16: a CLOSE applies to it)`},
			`SSHD CLOSE HOST 10.66.0.0/16: applies`},
		{"a name vs an OPEN by name", hostNamesNameRules, "trusted.example.com", "alice", 1,
			[]string{`auth: CLOSE for "alice" from "trusted.example.com"`,
				`no rule lets the login in (`, `:3: remote host "trusted.example.com" is the name trusted.example.com, which whoever controls the PTR record ` +
					`of the client's address can claim; a name opens nothing without HOST_NAMES:TRUST); DEFAULT:CLOSE`},
			`SSHD OPEN HOST trusted.example.com: does not apply`},
		{"an address is unaffected: outside the network", hostNamesCloseRules, "192.0.2.1", "carol", 0,
			[]string{`auth: OPEN for "carol" from "192.0.2.1"`, `OPEN rule (user "carol" is listed)`}, ""},
		{"an address is unaffected: v4-mapped inside", hostNamesCloseRules, "::ffff:10.66.1.2", "carol", 1,
			[]string{`auth: CLOSE for "carol" from "::ffff:10.66.1.2"`, `CLOSE rule (remote host "::ffff:10.66.1.2" matches 10.66.0.0/16)`}, ""},
		{"HOST_NAMES:TRUST: an OPEN by name", "HOST_NAMES:TRUST\n" + hostNamesNameRules, "Trusted.Example.com", "alice", 0,
			[]string{`auth: OPEN for "alice" from "Trusted.Example.com"`, `OPEN rule (remote host "Trusted.Example.com" matches trusted.example.com)`},
			`HOST_NAMES:TRUST: it matches name entries only`},
		{"HOST_NAMES:TRUST: a network does not match a name, as before", "HOST_NAMES:TRUST\n" + hostNamesCloseRules, "evil.example.com", "carol", 0,
			[]string{`auth: OPEN for "carol" from "evil.example.com"`}, `SSHD CLOSE HOST 10.66.0.0/16: does not apply`},
		{"HOST_NAMES:TRUST: an address is unaffected", "HOST_NAMES:TRUST\n" + hostNamesCloseRules, "10.66.1.2", "carol", 1,
			[]string{`auth: CLOSE for "carol" from "10.66.1.2"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newPAMStack(t, "DEBUG:TRUE\n"+tt.conf)
			mark := sink.Mark()
			out, code := s.pamtester(t, []string{"rhost=" + tt.rhost}, "sshd", tt.user, "authenticate", "acct_mgmt")
			if code != tt.code || (code != 0) != strings.Contains(out, denied) {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			lines := sink.Since(mark)
			decisions := grep(lines, "pam-accesscontrol[", " for \""+tt.user+"\" from ")
			if len(decisions) != 1 {
				t.Fatalf("%d decision lines, want 1:\n%s", len(decisions), strings.Join(lines, "\n"))
			}
			for _, w := range tt.log {
				if !strings.Contains(decisions[0], w) {
					t.Errorf("decision line lacks %q:\n%s", w, decisions[0])
				}
			}
			if tt.trace != "" && len(grep(lines, "trace:", tt.trace)) == 0 {
				t.Errorf("no trace line with %q:\n%s", tt.trace, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestHostNamesExplain: explain says why a name RHOST did or did not match.
func TestHostNamesExplain(t *testing.T) {
	testenv.Root(t) // the config must be root's
	dir := t.TempDir()
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	for _, tt := range []struct {
		conf, user string
		code       int
		want       []string
	}{
		{hostNamesNameRules, "alice", 1, []string{
			"CLOSE\ndecided by: " + conf + ":1  DEFAULT:CLOSE\n",
			"reason: no rule lets the login in (" + conf + ":2: remote host \"trusted.example.com\" is the name trusted.example.com",
			`remote host "trusted.example.com" is not an address: a name the host application looked up`,
			conf + `:2  SSHD OPEN HOST trusted.example.com: does not apply, remote host "trusted.example.com" is the name trusted.example.com`,
		}},
		{hostNamesCloseRules, "carol", 1, []string{
			"CLOSE\ndecided by: " + conf + ":2  SSHD CLOSE HOST 10.66.0.0/16\n",
			conf + `:2  SSHD CLOSE HOST 10.66.0.0/16: applies, remote host "trusted.example.com" is not an address, so it may be in 10.66.0.0/16`,
		}},
		{"HOST_NAMES:TRUST\n" + hostNamesNameRules, "alice", 0, []string{
			"OPEN\ndecided by: " + conf + ":3  SSHD OPEN HOST trusted.example.com\n",
			`remote host "trusted.example.com" is not an address; HOST_NAMES:TRUST: it matches name entries only`,
		}},
	} {
		must(t, os.WriteFile(conf, []byte(tt.conf), 0o644))
		out, _, code := runCLI(t, dir, nil, "explain", "--conf", conf, "--service", "sshd", "--user", tt.user, "--rhost", "trusted.example.com")
		if code != tt.code {
			t.Errorf("exit %d, want %d:\n%s", code, tt.code, out)
		}
		for _, want := range tt.want {
			if !strings.Contains(out, want) {
				t.Errorf("explain lacks %q:\n%s", want, out)
			}
		}
	}
}

// TestHostNamesCheck: check-my-config warns at every name in a HOST list,
// saying what it does under the HOST_NAMES in force, and reports a bad
// HOST_NAMES value.
func TestHostNamesCheck(t *testing.T) {
	testenv.Root(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	check := func(text string, wantCode int, want ...string) {
		t.Helper()
		must(t, os.WriteFile(conf, []byte(text), 0o644))
		out, _, code := runCLI(t, dir, nil, "check-my-config", conf)
		if code != wantCode {
			t.Errorf("exit %d, want %d:\n%s", code, wantCode, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("no %q in\n%s", w, out)
			}
		}
	}
	const names = "SSHD OPEN HOST gw.example.com,10.0.0.0/8\n" +
		"SSHD CLOSE HOST bad.example.com,10.66.0.0/16\n" +
		"SSHD ASK HOST laptop.example.com\n" +
		"SSHD OPEN HOST 192.0.2.0/24,LOCAL\n"
	check(names, 1,
		conf+`:1: warning: HOST entry "gw.example.com" is a host name: it lets no login in, since whoever controls the PTR record`,
		"it matches only with HOST_NAMES:TRUST",
		"\n    SSHD OPEN HOST gw.example.com,10.0.0.0/8\n",
		conf+`:2: warning: HOST entry "bad.example.com" is a host name: it closes only a login whose PAM_RHOST shows this very name`,
		conf+`:3: warning: HOST entry "laptop.example.com" is a host name: it lets no login in`,
		"1 file(s), 4 rule(s), 3 problem(s)")
	check("HOST_NAMES:TRUST\n"+names, 1,
		conf+`:2: warning: HOST entry "gw.example.com" is a host name, matched because HOST_NAMES:TRUST is set`,
		conf+`:3: warning: HOST entry "bad.example.com" is a host name: it closes only`,
		conf+`:3: warning: with HOST_NAMES:TRUST, the addresses and networks of a CLOSE rule do not close a login whose PAM_RHOST is a host name`,
		conf+`:4: warning: HOST entry "laptop.example.com" is a host name, matched because HOST_NAMES:TRUST is set`,
		"1 file(s), 4 rule(s), 4 problem(s)")
	check("HOST_NAMES:MAYBE\nSSHD CLOSE HOST 10.66.0.0/16\n", 1,
		conf+`:1: ignored: HOST_NAMES must be TRUST or DISTRUST, not "MAYBE"`)
	check("HOST_NAMES:DISTRUST\nSSHD CLOSE HOST 10.66.0.0/16\nTTY OPEN HOST LOCAL\n", 0, "OK: 1 file(s), 2 rule(s), no problems")
}
