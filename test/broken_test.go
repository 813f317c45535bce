package test

import (
	"strings"
	"testing"
)

// brokenRules is the attacker's case of issue 21: the admin meant to shut
// alice out of sshd under DEFAULT:OPEN and typed a blank into the list.
// The original ignored the line, and alice got in.
const brokenRules = `DEFAULT:OPEN
SSHD  CLOSE USER alice bob
LOGIN CLOSE USER mallory
SSHD  OPEN  USER carol dave
`

// errorLines are the helper's AUTHPRIV error-level syslog lines (<83>)
// that contain every one of want.
func errorLines(lines []string, want ...string) []string {
	var out []string
	for _, l := range grep(lines, append([]string{"pam-accesscontrol["}, want...)...) {
		if strings.HasPrefix(l, "<83>") {
			out = append(out, l)
		}
	}
	return out
}

// TestPAMBrokenCloseLine (issue 21): through real libpam, a broken CLOSE
// line refuses every sshd login (alice, whom it meant, and everyone else)
// with a syslog line naming file:line, while login (the console) still
// follows the rules; the broken lines are logged at error level once per
// config load: each call of a helper run per call, once for all the
// calls the daemon serves from one load.
func TestPAMBrokenCloseLine(t *testing.T) {
	s := newPAMStack(t, brokenRules)
	broken := s.rules + ":2"
	mark := sink.Mark()
	for _, user := range []string{"alice", "bob", "carol", "root"} {
		out, code := s.pamtester(t, nil, "sshd", user, "authenticate", "acct_mgmt")
		if code == 0 || !strings.Contains(out, "Access denied by pam-accesscontrol.") {
			t.Errorf("sshd %s got in under a broken CLOSE line:\n%s", user, out)
		}
		d := grep(sink.Since(mark), "pam-accesscontrol[", `CLOSE for "`+user+`"`, "by error: broken config line "+broken+": ",
			"every SSHD login (sshd with a password or keyboard-interactive) is refused until this line is fixed")
		if len(d) != 1 {
			t.Errorf("sshd %s: want one decision line naming %s, got %q", user, broken, sink.Since(mark))
		}
		mark = sink.Mark()
	}
	if out, code := s.pamtester(t, nil, "login", "carol", "authenticate", "acct_mgmt"); code != 0 {
		t.Errorf("login carol: exit %d: a broken SSHD line refuses only sshd\n%s", code, out)
	}
	if out, code := s.pamtester(t, nil, "login", "mallory", "authenticate"); code == 0 {
		t.Errorf("login mallory got in past LOGIN CLOSE USER mallory\n%s", out)
	}
	if n := len(grep(sink.Since(mark), `CLOSE for "mallory"`, s.rules+":3: CLOSE rule")); n != 1 {
		t.Errorf("mallory: %d decision lines by the CLOSE rule, want 1: %q", n, sink.Since(mark))
	}

	// once per load: a helper run per call loads the config each call
	mark = sink.Mark()
	s.pamtester(t, nil, "login", "carol", "authenticate", "acct_mgmt", "open_session")
	lines := sink.Since(mark)
	if n := len(errorLines(lines, "config: "+broken+": error: ", "a broken CLOSE rule could have kept logins out")); n != 3 {
		t.Errorf("%d error lines for %s in 3 calls of a helper run per call, want 3:\n%s", n, broken, strings.Join(lines, "\n"))
	}
	if n := len(errorLines(lines, "config: "+s.rules+":4: ignored: ")); n != 3 {
		t.Errorf("%d error lines for the broken OPEN line in 3 calls, want 3:\n%s", n, strings.Join(lines, "\n"))
	}

	// the daemon loads once and serves every call from that load
	socket, _ := startDaemon(t, s.dir)
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	for _, svc := range []string{"sshd", "login"} {
		s.service(t, svc, "auth required "+line+"\naccount required "+line+"\nsession required "+line+"\n")
	}
	mark = sink.Mark()
	for _, user := range []string{"alice", "carol"} {
		if out, code := s.pamtester(t, nil, "sshd", user, "authenticate"); code == 0 {
			t.Errorf("sshd %s got in through the daemon:\n%s", user, out)
		}
		if out, code := s.pamtester(t, nil, "login", user, "authenticate", "acct_mgmt", "open_session"); code != 0 {
			t.Errorf("login %s through the daemon: exit %d\n%s", user, code, out)
		}
	}
	lines = sink.Since(mark)
	if n := len(errorLines(lines, "config: "+broken+": error: ")); n != 1 {
		t.Errorf("%d error lines for %s in 8 calls the daemon served from one load, want 1:\n%s", n, broken, strings.Join(lines, "\n"))
	}
	if n := len(grep(lines, "by error: broken config line "+broken)); n != 2 {
		t.Errorf("%d sshd refusals naming %s through the daemon, want 2:\n%s", n, broken, strings.Join(lines, "\n"))
	}
}
