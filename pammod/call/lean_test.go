//go:build lean

package call

import (
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// TestLeanFailsClosed: in the lean build (go test -tags lean), a plugin or
// OPA rule that reaches a call anyway (the lean helper hands such configs
// on, but a config can change in between) refuses the login, never lets
// it in, with the decision's line saying why.
func TestLeanFailsClosed(t *testing.T) {
	for _, tt := range []struct{ rules, why string }{
		{"DEFAULT:OPEN\nSSHD allow USER alice\n", "plugin allow cannot run here"},
		{"DEFAULT:OPEN\nOPA_URL:http://127.0.0.1:1\nSSHD OPA USER alice\n", "OPA cannot be asked from here"},
	} {
		h := newHost(t, "")
		h.write("rules.conf", tt.rules)
		h.write("plugins/allow.star", "def decide(ctx):\n    return \"OPEN\"\n")
		h.proc(100, 10, 0)
		if code := h.call(auth, 100, &fakePAM{user: "alice"}, "192.0.2.1", 0); code != protocol.PAMAuthErr {
			t.Errorf("%q: code %d, want PAM_AUTH_ERR", tt.rules, code)
		}
		if len(h.log.grep(tt.why)) == 0 || len(h.log.grep(`CLOSE for "alice"`)) != 1 {
			t.Errorf("%q: no CLOSE line saying %q:\n%s", tt.rules, tt.why, strings.Join(h.log.lines, "\n"))
		}
	}
}
