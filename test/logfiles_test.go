package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestPlantedLogFiles plays the syslog account of Ubuntu, whose group
// may write /var/log (root:syslog 0775): it plants this month's log as a
// symbolic link to root's .bashrc, and the AUDIT_LOG file as a file of its
// own. Real PAM logins, one of a user named to run a command from
// .bashrc, leave both files as they were, log why in syslog, and are
// decided as the rules say.
func TestPlantedLogFiles(t *testing.T) {
	const nobody = 65534 // the attacker: uid and group
	// the log directory is root's and its group's, as /var/log, and the
	// attacker can reach it
	logdir := t.TempDir()
	must(t, os.Chmod(filepath.Dir(logdir), 0o755))
	must(t, os.Chown(logdir, 0, nobody))
	must(t, os.Chmod(logdir, 0o775))
	s := newPAMStack(t, "", "logdir="+logdir)
	audit := filepath.Join(logdir, "audit")
	must(t, os.Mkdir(audit, 0o755))
	must(t, os.Chown(audit, 0, nobody))
	must(t, os.Chmod(audit, 0o775))
	auditLog := filepath.Join(audit, "audit.jsonl")
	bashrc := filepath.Join(s.dir, "bashrc") // where only root writes
	must(t, os.WriteFile(bashrc, []byte("root's\n"), 0o644))

	asAttacker := func(script string, args ...string) {
		t.Helper()
		cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh"}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the attacker's %q: %v\n%s", script, err, out)
		}
	}
	var months []string // this month's, and the next in case the test runs over midnight
	for _, d := range []time.Duration{0, time.Hour} {
		m := filepath.Join(logdir, "pam-accesscontrol-"+time.Now().Add(d).Format("2006-01")+".log")
		if len(months) == 0 || months[0] != m {
			months = append(months, m)
			asAttacker(`ln -s "$1" "$2"`, bashrc, m)
		}
	}
	asAttacker(`echo theirs > "$1"`, auditLog)
	must(t, os.WriteFile(s.rules, []byte("AUDIT_LOG:"+auditLog+"\nDEFAULT:CLOSE\nSSHD OPEN USER alice\n"), 0o644))

	for _, tt := range []struct {
		user, verdict string
		code          int
	}{{"alice", "OPEN", 0}, {"x;touch /tmp/pwned;#", "CLOSE", 1}} {
		mark := sink.Mark()
		out, code := s.pamtester(t, []string{"rhost=10.1.1.1"}, "sshd", tt.user, "authenticate")
		if (code == 0) != (tt.code == 0) {
			t.Errorf("%s: exit %d, want %d:\n%s", tt.user, code, tt.code, out)
		}
		for _, want := range [][]string{
			{"auth: " + tt.verdict + " for \"" + tt.user + "\""},
			{"monthly log: " + logdir + "/pam-accesscontrol-", ".log is a symbolic link: refused"},
			{"audit log " + auditLog + ": " + auditLog + " is owned by uid 65534, not root: refused"},
		} {
			if !waitLine(mark, want...) {
				t.Errorf("%s: no syslog line with %q in %q", tt.user, want, sink.Since(mark))
			}
		}
	}
	if got, _ := os.ReadFile(bashrc); string(got) != "root's\n" {
		t.Errorf("root's .bashrc now holds %q", got)
	}
	if got, _ := os.ReadFile(auditLog); string(got) != "theirs\n" {
		t.Errorf("the attacker's audit file now holds %q", got)
	}
}
