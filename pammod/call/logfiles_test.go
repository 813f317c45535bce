package call

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// TestPlantedLogsChangeNoDecision plays whoever can write the log
// directory (the syslog account in Ubuntu's /var/log): links planted as
// this month's log and as the audit file are refused, the files they
// point at stay as they were, each call says why in one error line, and
// the decisions stand: OPEN stays OPEN, CLOSE stays CLOSE.
func TestPlantedLogsChangeNoDecision(t *testing.T) {
	h := newHost(t, "")
	audit := filepath.Join(h.dir, "audit.jsonl")
	h.write("rules.conf", "AUDIT_LOG:"+audit+"\nDEFAULT:CLOSE\nSSHD OPEN USER alice\nSSHD CLOSE USER bob\n")
	bashrc := filepath.Join(h.dir, "bashrc")
	h.write("bashrc", "root's\n")
	for _, link := range []string{filepath.Join(h.dir, "pam-accesscontrol-2026-11.log"), audit} {
		if err := os.Symlink(bashrc, link); err != nil {
			t.Fatal(err)
		}
	}
	h.proc(100, 10, 0)
	for _, tt := range []struct {
		user string
		want int32
	}{{"alice", protocol.PAMSuccess}, {"bob", protocol.PAMAuthErr}, {"x;touch /tmp/pwned;#", protocol.PAMAuthErr}} {
		h.log.lines = nil
		if got := h.call(auth, 100, &fakePAM{user: tt.user}, "192.0.2.1", 0); got != tt.want {
			t.Errorf("%s: code %d, want %d; log:\n%s", tt.user, got, tt.want, strings.Join(h.log.lines, "\n"))
		}
		if n := len(h.log.grep("err monthly log: " + filepath.Join(h.dir, "pam-accesscontrol-2026-11.log") + " is a symbolic link: refused")); n != 1 {
			t.Errorf("%s: %d monthly log errors, want 1; log:\n%s", tt.user, n, strings.Join(h.log.lines, "\n"))
		}
		if n := len(h.log.grep("err audit log " + audit + ": " + audit + " is a symbolic link: refused")); n != 1 {
			t.Errorf("%s: %d audit log errors, want 1; log:\n%s", tt.user, n, strings.Join(h.log.lines, "\n"))
		}
	}
	if got, _ := os.ReadFile(bashrc); string(got) != "root's\n" {
		t.Errorf("the link's target now holds %q", got)
	}
}
