package call

import (
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestPhases: a decision's call reports its four phases in order; a phase
// that reuses a decision only finds it (and files it for itself when it
// came from the process a fork away); account, the first phase after the
// authentication succeeded, files it as confirmed.
func TestPhases(t *testing.T) {
	h := newHost(t, "SSHD OPEN USER alice\n")
	var got []string
	h.phases = func(phase string, took time.Duration) {
		if took < 0 {
			t.Errorf("%s took %v", phase, took)
		}
		got = append(got, phase)
	}
	h.proc(10, 1, 0)
	h.proc(11, 2, 10)
	monitor := &fakePAM{user: "alice"}
	child := monitor.fork()
	for _, step := range []struct {
		fn   protocol.Fn
		pid  int32
		pam  *fakePAM
		want []string
	}{
		{auth, 11, child, []string{"items", "decide", "log", "record"}},
		{account, 11, child, []string{"items", "record"}},
		{open, 10, monitor, []string{"items", "record"}},
	} {
		got = nil
		if code := h.call(step.fn, step.pid, step.pam, "192.0.2.1", 0); code != protocol.PAMSuccess {
			t.Fatalf("%s: %d", step.fn, code)
		}
		if !reflect.DeepEqual(got, step.want) {
			t.Errorf("%s: phases %q, want %q", step.fn, got, step.want)
		}
	}
}

// TestConfigCacheInTheFlow: with the daemon's cache, a change of the
// rules file decides the very next call.
func TestConfigCacheInTheFlow(t *testing.T) {
	h := newHost(t, "SSHD OPEN USER alice\n")
	h.configs = &rules.Cache{}
	h.proc(10, 1, 0)
	if got := h.call(auth, 10, &fakePAM{user: "alice"}, "192.0.2.1", 0); got != protocol.PAMSuccess {
		t.Fatalf("before: %d", got)
	}
	h.write("rules.conf", "SSHD CLOSE USER alice\n")
	if got := h.call(auth, 10, &fakePAM{user: "alice"}, "192.0.2.1", 0); got != protocol.PAMAuthErr {
		t.Errorf("after the change: %d", got)
	}
}

// TestHandleReadOnlyWithARecord: a login's first phase has no record to
// match, so the module is not asked for the id on its handle (a round trip
// saved); a later phase is, and a sibling's record still needs it.
func TestHandleReadOnlyWithARecord(t *testing.T) {
	h := newHost(t, "SSHD OPEN USER alice\n")
	h.proc(10, 1, 0)
	pam := &fakePAM{user: "alice"}
	if code := h.call(auth, 10, pam, "192.0.2.1", 0); code != protocol.PAMSuccess || pam.reads != 0 {
		t.Fatalf("first phase: code %d, %d handle reads, want 0", code, pam.reads)
	}
	if code := h.call(account, 10, pam, "192.0.2.1", 0); code != protocol.PAMSuccess || pam.reads != 1 {
		t.Errorf("second phase: code %d, %d handle reads, want 1", code, pam.reads)
	}
	if n := len(h.log.grep("OPEN for")); n != 1 {
		t.Errorf("%d decisions logged, want 1: the account reuses the auth's", n)
	}
}

// TestDecisionJournalFields: each decision goes out with the fields that
// `journalctl PAMAC_VERDICT=CLOSE` selects by, the login id the audit
// trail carries among them.
func TestDecisionJournalFields(t *testing.T) {
	h := newHost(t, "DEFAULT:CLOSE\nSSHD OPEN USER alice\n")
	h.proc(10, 1, 0)
	h.proc(11, 1, 0)
	if code := h.call(auth, 10, &fakePAM{user: "alice"}, "192.0.2.1", 0); code != protocol.PAMSuccess {
		t.Fatalf("alice: %d", code)
	}
	if code := h.call(account, 11, &fakePAM{user: "bob"}, "", 0); code == protocol.PAMSuccess {
		t.Fatalf("bob got in")
	}
	if len(h.log.fields) != 2 {
		t.Fatalf("%d decisions with fields, want 2", len(h.log.fields))
	}
	for i, want := range []logging.Fields{
		{"PAMAC_VERDICT": "OPEN", "PAMAC_USER": "alice", "PAMAC_RHOST": "192.0.2.1", "PAMAC_SERVICE": "sshd",
			"PAMAC_AUTH": "password", "PAMAC_FUNCTION": "auth"},
		{"PAMAC_VERDICT": "CLOSE", "PAMAC_USER": "bob", "PAMAC_RHOST": "", "PAMAC_SERVICE": "sshd",
			"PAMAC_AUTH": "key", "PAMAC_FUNCTION": "account", "PAMAC_RULE": "DEFAULT"},
	} {
		got := h.log.fields[i]
		for k, v := range want {
			if got[k] != v {
				t.Errorf("decision %d: %s = %q, want %q", i+1, k, got[k], v)
			}
		}
		if i == 0 && !strings.HasSuffix(got["PAMAC_RULE"], "rules.conf:2") || len(got["PAMAC_LOGIN"]) < 8 {
			t.Errorf("decision %d: rule %q, login %q", i+1, got["PAMAC_RULE"], got["PAMAC_LOGIN"])
		}
	}
	if h.log.fields[0]["PAMAC_LOGIN"] == h.log.fields[1]["PAMAC_LOGIN"] {
		t.Error("two logins, one login id")
	}
}
