package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
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

// TestBrokenChannelsDenyNothing: every channel broken at once (an audit
// file that cannot be written, a webhook, syslog server and mail relay
// that refuse connections) costs a login that the rules allow nothing but
// log lines; so does an outbox that cannot be written.
func TestBrokenChannelsDenyNothing(t *testing.T) {
	s := newPAMStack(t, "")
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	must(t, os.WriteFile(filepath.Join(s.dir, "mail-notification.conf"), []byte("SSHD admin@example.org\n"), 0o644))
	must(t, os.WriteFile(s.rules, []byte("AUDIT_LOG:/proc/pam-accesscontrol/audit.jsonl\nWEBHOOK:http://"+closed+"/\n"+
		"SYSLOG_SERVER:tcp://"+closed+"\nMAILSERVER:"+closed+"\nSSHD OPEN USER alice\n"), 0o644))
	mark := sink.Mark()
	start := time.Now()
	if out, code := s.pamtester(t, []string{"rhost=10.1.1.1"}, "sshd", "alice", "authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
		t.Fatalf("refused:\n%s", out)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the login took %v", d)
	}
	for _, want := range [][]string{
		{"audit log /proc/pam-accesscontrol/audit.jsonl"},
		{"webhook http://" + closed, "kept for the next try"},
		{"syslog tcp://" + closed, "kept for the next try"},
		{"mail " + closed, "kept for the next try"},
	} {
		if !waitLine(mark, want...) {
			t.Errorf("no line with %q in %q", want, sink.Since(mark))
		}
	}

	// the outbox cannot be written: still in, and told why
	must(t, os.RemoveAll(filepath.Join(s.dir, "spool", "outbox")))
	must(t, os.WriteFile(filepath.Join(s.dir, "spool", "outbox"), nil, 0o600))
	mark = sink.Mark()
	if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != 0 {
		t.Fatalf("refused with no outbox:\n%s", out)
	}
	if len(grep(sink.Since(mark), "syslog to tcp://"+closed, "(not sent)")) != 1 {
		t.Errorf("log %q", sink.Since(mark))
	}
}
