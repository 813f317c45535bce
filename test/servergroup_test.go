package test

import (
	"strconv"
	"strings"
	"testing"
)

// TestOPAServerGroup: SERVER_GROUP reaches a real OPA through the real
// module and libpam (input.pam_accesscontrol.server_group), so one policy
// decides per group of servers: the fleet policy lets ops in on web-eu
// servers only, "default" when no group is set. A broken SERVER_GROUP
// line refuses the login rather than let the policy decide for another
// group; check-my-config says so with file:line, and explain shows the
// group.
func TestOPAServerGroup(t *testing.T) {
	o := startOPA(t, "", "testdata/opa/servergroup")
	etc := newOPAEtc(t, "frontend")
	for _, tt := range []struct {
		name, settings string
		code           int
		log            string
	}{
		{"web-eu lets ops in", "SERVER_GROUP:web-eu", 0, `OPEN for "ops"`},
		{"another group", "SERVER_GROUP:db-eu", 1, `CLOSE for "ops"`},
		{"no group: default", "", 1, `CLOSE for "ops"`},
		{"a broken group line after a good one", "SERVER_GROUP:web-eu\nSERVER_GROUP:web/eu", 1, "SERVER_GROUP"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newPAMStack(t, opaRules(o.URL, "OPA_AUTHZ:sshd/authz", tt.settings))
			mark := sink.Mark()
			out, code, _ := etc.pamtester(t, s, "", []string{"rhost=192.0.2.10"}, "ops", "authenticate")
			log := strings.Join(sink.Since(mark), "\n")
			if code != tt.code || !strings.Contains(log, tt.log) {
				t.Errorf("exit %d, want %d; log lacks %q?\n%s\n%s", code, tt.code, tt.log, out, log)
			}
		})
	}

	s := newPAMStack(t, opaRules(o.URL, "OPA_AUTHZ:sshd/authz", "SERVER_GROUP:web-eu\nSERVER_GROUP:web/eu"))
	out, _, code := runCLI(t, "/", nil, "check-my-config", s.rules)
	if code != 1 || !strings.Contains(out, s.rules+":"+lineOf(t, s.rules, "SERVER_GROUP:web/eu")+`: error: SERVER_GROUP: "web/eu"`) || !strings.Contains(out, "every login is refused") {
		t.Errorf("check-my-config: exit %d\n%s", code, out)
	}

	s = newPAMStack(t, opaRules(o.URL, "OPA_AUTHZ:sshd/authz", "SERVER_GROUP:web-eu"))
	argv := append(append([]string(nil), etc.prefix...), cli, "explain", "--conf", s.rules, "--service", "sshd", "--user", "ops")
	eout, err := command(argv[0], argv[1:]...).CombinedOutput()
	if code := exitStatus(t, err); code != 0 || !strings.Contains(string(eout), `"server_group":"web-eu"`) ||
		!strings.Contains(string(eout), "server group: web-eu ("+s.rules+":"+lineOf(t, s.rules, "SERVER_GROUP:web-eu")+")") {
		t.Errorf("explain: exit %d\n%s", code, eout)
	}
}

// lineOf is the number of the line of file that is text.
func lineOf(t *testing.T, file, text string) string {
	t.Helper()
	for i, l := range strings.Split(string(mustRead(t, file)), "\n") {
		if l == text {
			return strconv.Itoa(i + 1)
		}
	}
	t.Fatalf("%s has no line %q", file, text)
	return ""
}
