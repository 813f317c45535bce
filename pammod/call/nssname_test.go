package call

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// TestNSSNameDecides plays a client that types ALICE where NSS is
// case-insensitive (SSSD's AD provider): the rules see the account's
// name, alice, so `CLOSE USER alice` refuses ALICE, and the log line, the
// journal fields and the audit event name both.
func TestNSSNameDecides(t *testing.T) {
	for _, tt := range []struct {
		name  string
		conf  string
		fold  bool // NSS finds alice for ALICE
		typed string
		want  int32
	}{
		{"CLOSE USER alice refuses ALICE", "DEFAULT:OPEN\nSSH CLOSE USER alice\n", true, "ALICE", protocol.PAMAuthErr},
		{"CLOSE USER alice refuses alice", "DEFAULT:OPEN\nSSH CLOSE USER alice\n", true, "alice", protocol.PAMAuthErr},
		{"OPEN USER alice opens ALICE: NSS says alice", "SSH OPEN USER alice\n", true, "ALICE", protocol.PAMSuccess},
		{"OPEN USER alice: NSS knows no ALICE", "SSH OPEN USER alice\n", false, "ALICE", protocol.PAMAuthErr},
		{"OPEN USER ALICE does not open the account alice", "SSH OPEN USER ALICE\n", true, "ALICE", protocol.PAMAuthErr},
		{"an unknown user: CLOSE USER by the name as given", "DEFAULT:OPEN\nSSH CLOSE USER zed\n", true, "zed", protocol.PAMAuthErr},
		{"an unknown user: OPEN USER by the name as given", "SSH OPEN USER zed\n", true, "zed", protocol.PAMSuccess},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "")
			auditLog := filepath.Join(h.dir, "audit.jsonl")
			h.write("rules.conf", "DEBUG:TRUE\nAUDIT_LOG:"+auditLog+"\n"+tt.conf)
			h.nss.fold = tt.fold
			h.proc(100, 10, 0)
			pam := &fakePAM{user: tt.typed}
			if code := h.call(auth, 100, pam, "192.0.2.1", 0); code != tt.want {
				t.Fatalf("code %d, want %d\n%s", code, tt.want, strings.Join(h.log.lines, "\n"))
			}
			// the account phase of the same login finds the decision of
			// auth under PAM_USER as given (and takes it once the
			// authentication succeeded, or decides again as a key login)
			if code := h.call(account, 100, pam, "192.0.2.1", 0); code == protocol.PAMSuccess != (tt.want == protocol.PAMSuccess) ||
				len(h.log.grep("the earlier decision"))+len(h.log.grep("of an earlier phase")) != 1 {
				t.Errorf("account: code %d, or the decision of auth not found\n%s", code, strings.Join(h.log.lines, "\n"))
			}
			if !tt.fold || tt.typed != "ALICE" {
				return
			}
			verdict := "CLOSE"
			if tt.want == protocol.PAMSuccess {
				verdict = "OPEN"
			}
			if lines := h.log.grep(`auth: ` + verdict + ` for "alice" (PAM_USER "ALICE") from "192.0.2.1"`); len(lines) != 1 {
				t.Errorf("the decision line does not name both:\n%s", strings.Join(h.log.lines, "\n"))
			}
			if f := h.log.fields[0]; f["PAMAC_USER"] != "alice" || f["PAMAC_PAM_USER"] != "ALICE" {
				t.Errorf("journal fields %v", f)
			}
			data, err := os.ReadFile(auditLog)
			if err != nil {
				t.Fatal(err)
			}
			var e audit.Event
			if err := json.Unmarshal([]byte(strings.SplitN(string(data), "\n", 2)[0]), &e); err != nil || e.User != "alice" || e.PAMUser != "ALICE" {
				t.Errorf("audit event %+v %v:\n%s", e, err, data)
			}
		})
	}
}

// TestNSSFailureDenies: NSS failing (the directory unreachable, not a
// missing user) denies even under DEFAULT:OPEN, with one line saying so.
func TestNSSFailureDenies(t *testing.T) {
	h := newHost(t, "DEFAULT:OPEN\nSSHD CLOSE USER alice\n")
	h.nss.err = errors.New("Input/output error")
	h.proc(100, 10, 0)
	pam := &fakePAM{user: "ALICE"}
	if code := h.call(auth, 100, pam, "192.0.2.1", 0); code != protocol.PAMAuthErr || len(pam.said) != 1 {
		t.Fatalf("code %d, said %q\n%s", code, pam.said, strings.Join(h.log.lines, "\n"))
	}
	lines := h.log.grep("CLOSE for")
	if len(lines) != 1 || !strings.Contains(lines[0], `by error: looking up user "ALICE" in NSS: Input/output error`) {
		t.Errorf("want one line saying NSS failed:\n%s", strings.Join(h.log.lines, "\n"))
	}
}
