package call

import (
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// TestPluginPromptDeadline (README, "Rule plugins"): the rules' evaluation,
// the user's typing at a plugin's prompt included, has the decision's
// deadline (30 s, or the module's timeout= less a second when that is
// shorter): the right answer typed after it is too late, and the login is
// CLOSE; typed in time, it is OPEN.
func TestPluginPromptDeadline(t *testing.T) {
	for _, tt := range []struct {
		name   string
		typing time.Duration
		want   int32
	}{
		{"in time", 100 * time.Millisecond, protocol.PAMSuccess},
		{"after the deadline", 1500 * time.Millisecond, protocol.PAMAuthErr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "DEFAULT:CLOSE\nSSHD code USER alice\n")
			h.write("plugins/code.star", secondFactor)
			h.timeout = 2 * time.Second // the decision's deadline: 1 s
			h.proc(10, 1, 0)
			pam := &fakePAM{user: "alice", answers: []string{"1234"}, onPrompt: func() { time.Sleep(tt.typing) }}
			if got := h.call(auth, 10, pam, "192.0.2.1", 0); got != tt.want {
				t.Errorf("code %d, want %d\n%s", got, tt.want, strings.Join(h.log.lines, "\n"))
			}
		})
	}
}
