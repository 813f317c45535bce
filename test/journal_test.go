package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// journalScript runs a real systemd-journald in a private mount namespace
// (its sockets in a /run/systemd of its own: the machine's stays as it
// is), then each PAM transaction given, then writes what journalctl
// selects by PAMAC_VERDICT to $dir/open.json and $dir/close.json.
const journalScript = `set -e
dir=$1; syslog=$2; shift 2
[ "$syslog" = yes ] || mount --bind /dev/null /dev/log
mount -t tmpfs tmpfs /run/systemd 2>/dev/null || { mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd; }
mkdir -p /run/systemd/journal /run/log
mount -t tmpfs tmpfs /run/log
/lib/systemd/systemd-journald >"$dir/journald.log" 2>&1 &
jd=$!
for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start"; cat "$dir/journald.log"; exit 1; }
for user in "$@"; do pamtester -v sshd "$user" authenticate >>"$dir/pamtester.log" 2>&1 || true; done
journalctl --sync 2>/dev/null || sleep 0.5
journalctl -D /run/log/journal --no-pager -o json PAMAC_VERDICT=OPEN >"$dir/open.json"
journalctl -D /run/log/journal --no-pager -o json PAMAC_VERDICT=CLOSE >"$dir/close.json"
kill $jd
`

// TestJournal (issue 17): where journald runs, each decision is in the
// journal with its fields, so that journalctl PAMAC_VERDICT=CLOSE lists
// the refusals; the same line is not also sent to syslog (journald
// forwards it there itself). Without a syslog daemon behind /dev/log
// (/dev/null bound over it) the decisions still reach the journal.
func TestJournal(t *testing.T) {
	testenv.Root(t)
	if _, err := os.Stat("/lib/systemd/systemd-journald"); err != nil {
		testenv.Missing(t, "systemd-journald (systemd)")
	}
	for _, tool := range []string{"unshare", "journalctl", "pamtester"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool)
		}
	}
	for _, syslog := range []string{"yes", "no"} {
		t.Run("syslog="+syslog, func(t *testing.T) { journalLogins(t, syslog) })
	}
}

func journalLogins(t *testing.T, syslog string) {
	s := newPAMStack(t, pamRules)
	mark := sink.Mark()
	args := append(sink.Wrap(), "unshare", "--mount", "--propagation", "private", "sh", "-c", journalScript, "sh", s.dir, syslog, "alice", "bob")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+libPAMWrapper(t), "PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+s.svc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("journald and the logins: %v\n%s\n%s", err, out, mustRead(t, s.dir+"/pamtester.log"))
	}
	entries := func(file string) []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(mustRead(t, s.dir+"/"+file))), "\n") {
			if line == "" {
				continue
			}
			var e map[string]any
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("%s: %v: %s", file, err, line)
			}
			out = append(out, e)
		}
		return out
	}
	for _, tt := range []struct {
		file, user, verdict, rule string
	}{
		{"open.json", "alice", "OPEN", "rules.conf:2"},
		{"close.json", "bob", "CLOSE", "rules.conf:4"},
	} {
		got := entries(tt.file)
		if len(got) != 1 {
			t.Errorf("journalctl PAMAC_VERDICT=%s: %d entries, want 1 (%s's)", tt.verdict, len(got), tt.user)
			continue
		}
		e := got[0]
		for k, want := range map[string]string{"PAMAC_USER": tt.user, "PAMAC_VERDICT": tt.verdict, "PAMAC_SERVICE": "sshd",
			"PAMAC_FUNCTION": "auth", "SYSLOG_IDENTIFIER": "pam-accesscontrol", "SYSLOG_FACILITY": "10", "PRIORITY": "6"} {
			if e[k] != want {
				t.Errorf("%s's entry: %s = %v, want %q", tt.user, k, e[k], want)
			}
		}
		if rule, _ := e["PAMAC_RULE"].(string); !strings.HasSuffix(rule, tt.rule) {
			t.Errorf("%s's entry: PAMAC_RULE = %q, want …%s", tt.user, rule, tt.rule)
		}
		if msg, _ := e["MESSAGE"].(string); !strings.Contains(msg, tt.verdict+" for \""+tt.user+"\"") {
			t.Errorf("%s's entry: MESSAGE = %q", tt.user, msg)
		}
		if id, _ := e["PAMAC_LOGIN"].(string); len(id) < 8 {
			t.Errorf("%s's entry: PAMAC_LOGIN = %q", tt.user, id)
		}
	}
	if l := grep(sink.Since(mark), "pam-accesscontrol[", " for \""); len(l) != 0 {
		t.Errorf("decisions sent to syslog as well: %q", l)
	}
}
