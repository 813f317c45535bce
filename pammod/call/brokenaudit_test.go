package call

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// TestBrokenLineAuditEvent (README, "What it logs"): a login that a broken
// config line refuses leaves a config_refused event in the audit trail,
// naming the line, besides its decision.
func TestBrokenLineAuditEvent(t *testing.T) {
	h := newHost(t, brokenConf)
	trail := filepath.Join(h.dir, "audit.jsonl")
	h.write("rules.conf", "AUDIT_LOG:"+trail+"\n"+brokenConf) // the broken CLOSE line is line 3 now
	h.proc(10, 1, 0)
	if code := h.call(auth, 10, &fakePAM{user: "alice"}, "192.0.2.1", 0); code != protocol.PAMAuthErr {
		t.Fatalf("alice: %d, want PAM_AUTH_ERR\n%s", code, strings.Join(h.log.lines, "\n"))
	}
	data, err := os.ReadFile(trail)
	if err != nil {
		t.Fatal(err)
	}
	var refused []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, `"event":"config_refused"`) {
			refused = append(refused, l)
		}
	}
	if len(refused) != 1 || !strings.Contains(refused[0], h.conf+":3") || !strings.Contains(refused[0], `"user":"alice"`) {
		t.Errorf("want one config_refused event for alice naming %s:3; the trail:\n%s", h.conf, data)
	}
	if !strings.Contains(string(data), `"event":"decision"`) {
		t.Errorf("no decision event beside it:\n%s", data)
	}
}
