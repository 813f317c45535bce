package call

import (
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// brokenConf has a broken CLOSE line (refuses sshd), a broken OPEN line
// (ignored) and a warning, under DEFAULT:OPEN.
const brokenConf = "DEFAULT:OPEN\nSSHD CLOSE USER alice bob\nSSHD OPEN USER carol dave\nSSHD OPEN USER ALL\n"

// TestBrokenLineRefuses (issue 21): a broken CLOSE line under DEFAULT:OPEN
// refuses the login, and the decision's line names the broken line.
func TestBrokenLineRefuses(t *testing.T) {
	h := newHost(t, brokenConf)
	h.proc(10, 1, 0)
	if code := h.call(auth, 10, &fakePAM{user: "alice"}, "192.0.2.1", 0); code != protocol.PAMAuthErr {
		t.Fatalf("alice: %d, want PAM_AUTH_ERR: the broken CLOSE line fails closed", code)
	}
	lines := h.log.grep("CLOSE for \"alice\"")
	if len(lines) != 1 || !strings.Contains(lines[0], "broken config line "+h.conf+":2") ||
		!strings.Contains(lines[0], "every SSHD login (sshd with a password or keyboard-interactive) is refused until this line is fixed") {
		t.Errorf("decision lines %q: want one naming %s:2 and what it refuses", lines, h.conf)
	}
}

// TestBrokenLinesLoggedOncePerLoad: every ignored or refusing line is
// logged at error level once per config load: each call of a helper run
// per call (it loads the config each time), once for the many calls a
// daemon serves from its cache, and once more after the file changes.
// Warnings stay at debug level.
func TestBrokenLinesLoggedOncePerLoad(t *testing.T) {
	count := func(h *host) (refusing, ignored, warnings int) {
		for _, l := range h.log.lines {
			switch {
			case strings.HasPrefix(l, "err config: "+h.conf+":2: error: "):
				refusing++
			case strings.HasPrefix(l, "err config: "+h.conf+":3: ignored: "):
				ignored++
			case strings.Contains(l, "config: "+h.conf+":4: warning: "):
				warnings++
			}
		}
		return
	}
	logins := func(h *host, n int) {
		for i := range n {
			pid := int32(100 + i)
			h.proc(pid, uint64(pid), 0)
			pam := &fakePAM{user: "bob"}
			h.call(auth, pid, pam, "192.0.2.1", 0)
			h.call(account, pid, pam, "192.0.2.1", 0)
		}
	}
	for _, tt := range []struct {
		name   string
		cache  bool
		calls  int // the calls of three logins
		reload int // after the change, one more login
	}{
		{"helper run per call", false, 6, 2},
		{"daemon with its cache", true, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, brokenConf)
			if tt.cache {
				h.configs = &rules.Cache{}
			}
			logins(h, 3)
			if r, i, w := count(h); r != tt.calls || i != tt.calls || w != 0 {
				t.Errorf("error lines %d refusing and %d ignored, %d warnings; want %d, %d, 0:\n%s",
					r, i, w, tt.calls, tt.calls, strings.Join(h.log.lines, "\n"))
			}
			h.write("rules.conf", brokenConf+"# changed\n")
			logins(h, 1)
			if r, i, _ := count(h); r != tt.calls+tt.reload || i != tt.calls+tt.reload {
				t.Errorf("after a change: %d and %d error lines, want %d", r, i, tt.calls+tt.reload)
			}
		})
	}
}
