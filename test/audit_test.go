package test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
)

func readAudit(t *testing.T, path string) []audit.Event {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	var out []audit.Event
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var e audit.Event
		must(t, json.Unmarshal(sc.Bytes(), &e))
		out = append(out, e)
	}
	return out
}

// TestAuditTrail: a login's decision, session open and close carry one
// correlation id, also across sshd's fork (the fork driver's
// keyboard-interactive pattern); another login has another.
func TestAuditTrail(t *testing.T) {
	s := newPAMStack(t, "")
	log := filepath.Join(s.dir, "audit", "audit.jsonl")
	must(t, os.WriteFile(s.rules, []byte("AUDIT_LOG:"+log+"\nSSHD OPEN USER alice\n"), 0o644))
	mark := sink.Mark()
	if _, code := s.pamtester(t, []string{"rhost=10.1.1.1"}, "sshd", "alice", "authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
		t.Fatal("refused")
	}
	events := readAudit(t, log)
	// syslog has each event too, with the same id
	lines := sink.Since(mark)
	for _, want := range [][]string{
		{"auth: OPEN for \"alice\"", "login " + events[0].Login},
		{"open_session: session_open of \"alice\" from \"10.1.1.1\" (service \"sshd\", login " + events[0].Login + ")"},
		{"close_session: session_close of \"alice\" from \"10.1.1.1\" (service \"sshd\", login " + events[0].Login + ")"},
	} {
		if len(grep(lines, want...)) != 1 {
			t.Errorf("no syslog line with %q in %q", want, lines)
		}
	}
	kinds := ""
	for _, e := range events {
		kinds += e.Kind + " "
		if e.Login != events[0].Login || e.User != "alice" || e.RHost != "10.1.1.1" || e.Service != "sshd" || e.Host == "" {
			t.Errorf("event %+v", e)
		}
	}
	if kinds != "decision session_open session_close " {
		t.Fatalf("events %q", kinds)
	}
	if d := events[0]; d.Verdict != "OPEN" || d.Phase != "auth" || d.Auth != "password" || d.Rule != s.rules+":2" {
		t.Errorf("decision %+v", d)
	}

	// sshd's pattern: the child decides, the parent opens and closes
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, forkDriver(t), s.svc, "sshd", "alice", "sshd-kbdint").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	events = readAudit(t, log)[3:]
	if len(events) != 3 || events[0].Login == readAudit(t, log)[0].Login {
		t.Fatalf("second login's events %+v", events)
	}
	for _, e := range events {
		if e.Login != events[0].Login {
			t.Errorf("the login id changed across the fork: %+v", events)
		}
	}
	if events[0].PID == events[1].PID {
		t.Errorf("the decision was made in the child, the session in the parent: pids %d, %d", events[0].PID, events[1].PID)
	}
}
