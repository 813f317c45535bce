package call

import (
	"reflect"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestPhases: a decision's call reports its four phases in order; a phase
// that reuses a decision only finds it (and files it for itself when it
// came from the process a fork away).
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
		{account, 11, child, []string{"items"}},
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
