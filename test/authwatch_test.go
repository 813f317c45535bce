package test

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAuthWatch: the module learns how the host's pam_authenticate ended
// through libpam's fail-delay callback, and changes nothing else the host
// sees there: a failure still waits the delay a module asked for (or, when
// the application has a callback of its own, that callback is told, once,
// with the status and the delay, and libpam does not wait); the account
// phase after a failed password decides as a key login. A second handle in
// the process cannot be told apart (the callback gets no handle): its
// login must pass as both kinds.
func TestAuthWatch(t *testing.T) {
	driver := buildOnce(t, "authwatchdriver", "cc", "-Wall", "-Werror", "-o", "OUT", "authwatchdriver/authwatchdriver.c", "-lpam")
	const rules = "DEFAULT:CLOSE\nSSHD OPEN USER alice\nSSHD-KEY CLOSE USER alice\n"
	stacks := map[string]string{
		"fail": "auth required pam_faildelay.so delay=1000000\nauth required pam_deny.so\n",
		"ok":   "auth required pam_permit.so\n",
	}
	for _, tt := range []struct {
		stack, mode string
		want        []string // lines, in order
		slow        bool     // pam_authenticate waited the fail delay
	}{
		{"fail", "plain", []string{"authenticate 7", "account 6"}, true},
		{"fail", "app-delay", []string{"app-delay status=7 usec=", "authenticate 7", "account 6"}, false},
		{"ok", "plain", []string{"authenticate 0", "account 0"}, false},
		{"ok", "app-delay", []string{"app-delay status=0", "authenticate 0", "account 0"}, false},
		{"ok", "two-handles", []string{"authenticate 0", "authenticate 0", "account 6", "account 0"}, false},
	} {
		t.Run(tt.stack+"/"+tt.mode, func(t *testing.T) {
			s := newPAMStack(t, rules)
			line := s.moduleLine()
			s.service(t, "sshd", stacks[tt.stack]+"auth required "+line+"\naccount required "+line+"\n")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			all := append(sink.Wrap(), driver, s.svc, "alice", tt.mode)
			mark := sink.Mark()
			out, err := exec.CommandContext(ctx, all[0], all[1:]...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "done") {
				t.Fatalf("%v\n%s", err, out)
			}
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			i := 0
			for _, l := range got {
				if i < len(tt.want) && strings.HasPrefix(l, tt.want[i]) {
					i++
				}
			}
			if i != len(tt.want) || strings.Count(string(out), "app-delay") > strings.Count(strings.Join(tt.want, "\n"), "app-delay") {
				t.Fatalf("got:\n%s\nwant, in order:\n%s\nsyslog:\n%s", out, strings.Join(tt.want, "\n"), strings.Join(sink.Since(mark), "\n"))
			}
			if m := regexp.MustCompile(`usec=(\d+)`).FindStringSubmatch(string(out)); m != nil && tt.stack == "fail" {
				if usec, _ := strconv.Atoi(m[1]); usec < 300000 {
					t.Errorf("the application's callback was told a delay of %d µs, want about 1000000", usec)
				}
			}
			ms, _ := strconv.Atoi(regexp.MustCompile(`authenticate \d+ ms=(\d+)`).FindStringSubmatch(string(out))[1])
			if slow := ms >= 300; slow != tt.slow {
				t.Errorf("pam_authenticate took %d ms; waited the fail delay: %v, want %v", ms, slow, tt.slow)
			}
			if tt.mode == "two-handles" && len(grep(sink.Since(mark), "cannot be told")) != 1 {
				t.Errorf("no line says the second handle's login kind cannot be told:\n%s", strings.Join(sink.Since(mark), "\n"))
			}
		})
	}
}
