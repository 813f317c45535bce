package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostDriver builds hostdriver/hostdriver.c once.
func hostDriver(t *testing.T) string {
	return buildOnce(t, "hostdriver", "cc", "-Wall", "-Werror", "-o", "OUT", "hostdriver/hostdriver.c", "-lpam")
}

// runHostDriver runs rounds PAM transactions of user on the stack's sshd
// service in a host process set up as mode says (hostdriver.c) and returns
// its output lines, the conversation's left out. The run must finish
// within 60 s with exit status 0.
func runHostDriver(t *testing.T, s *pamStack, user, mode string, rounds int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	all := append(sink.Wrap(), hostDriver(t), s.svc, "sshd", user, mode, strconv.Itoa(rounds))
	out, err := exec.CommandContext(ctx, all[0], all[1:]...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("hung:\n%s", out)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(l, "conv ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// steps are the driver's lines for rounds transactions whose authenticate
// returns auth and account returns account.
func steps(rounds, auth, account int) string {
	return strings.Repeat(fmt.Sprintf("authenticate %d\naccount %d\n", auth, account), rounds)
}

// lineWith returns the first line that starts with prefix, or "".
func lineWith(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// PAM codes, from security/_pam_types.h.
const (
	pamSuccess    = 0
	pamSystemErr  = 4
	pamPermDenied = 6
	pamAuthErr    = 7
)

// TestHostSIGCHLD: a host that ignores SIGCHLD (the kernel reaps its
// children, waitpid answers ECHILD) or whose SIGCHLD handler reaps every
// child itself (xrdp; sshd in ubuntu/authd's report) gets the helper's
// result: OPEN lets in, CLOSE denies, no failure is logged. A helper that
// ends before its result, or does not end after it, still fails closed.
func TestHostSIGCHLD(t *testing.T) {
	const rounds = 5
	for _, mode := range []string{"sigchld-ignore", "sigchld-reap"} {
		t.Run(mode, func(t *testing.T) {
			s := newPAMStack(t, "SSHD OPEN USER alice\nSSHD CLOSE USER bob\n")
			reaped := 0
			for _, tt := range []struct {
				user          string
				auth, account int
			}{{"alice", pamSuccess, pamSuccess}, {"bob", pamAuthErr, pamPermDenied}} {
				mark := sink.Mark()
				lines := runHostDriver(t, s, tt.user, mode, rounds)
				if got, want := strings.Join(lines, "\n"), steps(rounds, tt.auth, tt.account)+"done"; !strings.HasSuffix(got, "done") ||
					!strings.HasPrefix(got+"\n", steps(rounds, tt.auth, tt.account)) {
					t.Errorf("%s:\n%s\nwant:\n%s\nsyslog %q", tt.user, got, want, grep(sink.Since(mark), "pam_accesscontrol("))
				}
				if l := grep(sink.Since(mark), "pam_accesscontrol(", "denying"); len(l) != 0 {
					t.Errorf("%s: the module logged failures: %q", tt.user, l)
				}
				if mode == "sigchld-reap" {
					n, _ := strconv.Atoi(strings.TrimPrefix(lineWith(lines, "reaped "), "reaped "))
					reaped += n
				}
				// the module changed nothing of the host's
				if want := map[string]string{"sigchld-ignore": " sigchld=ignore ", "sigchld-reap": " sigchld=handler "}[mode]; !strings.Contains(lineWith(lines, "host "), want) {
					t.Errorf("%s: the host's SIGCHLD disposition changed: %q", tt.user, lineWith(lines, "host "))
				}
			}
			// the host's handler did take helpers from under the module
			if mode == "sigchld-reap" && reaped == 0 {
				t.Errorf("the host's SIGCHLD handler reaped no helper: the test proves nothing")
			}

			// before its result, a helper gone is a failure, whoever reaped it
			for _, tt := range []struct {
				name, body string
			}{
				{"no result", "exit 0"},
				{"result, then no end", "printf '" + resultSuccess + "' >&3; exec sleep 600"},
			} {
				line := s.moduleLine("helper=" + fakeHelper(t, s.dir, tt.body))
				s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\n")
				mark := sink.Mark()
				lines := runHostDriver(t, s, "alice", mode, 1)
				if got := strings.Join(lines, "\n"); !strings.HasPrefix(got+"\n", steps(1, pamSystemErr, pamSystemErr)) {
					t.Errorf("%s: the login got in:\n%s", tt.name, got)
				}
				if l := grep(sink.Since(mark), "pam_accesscontrol(sshd:auth)", "denying"); len(l) != 1 {
					t.Errorf("%s: want one line of the module's, got %q", tt.name, sink.Since(mark))
				}
			}
		})
	}
}

// hasCapability tells whether this process has capability bit in its
// effective set.
func hasCapability(t *testing.T, bit uint) bool {
	data, err := os.ReadFile("/proc/self/status")
	must(t, err)
	for _, l := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(l, "CapEff:\t"); ok {
			caps, err := strconv.ParseUint(hex, 16, 64)
			must(t, err)
			return caps&(1<<bit) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}

const capSysResource = 24

// TestHostUserRealUID: under su or sudo the host runs with the invoking
// user's real uid (effective uid 0) and the user's limits. The helper
// still runs with real, effective and saved uid and gid 0 (the user cannot
// signal it), no file size limit (ulimit -f 0 cannot fail its audit and
// log writes), descriptors enough, no core file and its own umask; and the
// login is decided as the rules say, with the audit log written. A hard
// limit the user lowered that the host may not raise (no
// CAP_SYS_RESOURCE, as in a container) denies the login instead.
func TestHostUserRealUID(t *testing.T) {
	for _, mode := range []string{"user-ruid=65534", "user-ruid-hard=65534"} {
		t.Run(mode, func(t *testing.T) {
			s := newPAMStack(t, "")
			audit := filepath.Join(s.dir, "audit", "audit.jsonl")
			must(t, os.WriteFile(s.rules, []byte("AUDIT_LOG:"+audit+"\nSSHD OPEN USER alice\nSSHD CLOSE USER bob\n"), 0o644))
			report := filepath.Join(s.dir, "report")
			wrapper := fakeHelper(t, s.dir, `{ grep -E '^(Uid|Gid):' /proc/$$/status
echo "fsize $(ulimit -f)"
echo "core $(ulimit -c)"
echo "nofile $(ulimit -n)"
echo "umask $(umask)"; } >`+report+`
exec `+helper)
			line := s.moduleLine("helper=" + wrapper)
			s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\n")
			canLift := !strings.HasPrefix(mode, "user-ruid-hard=") || hasCapability(t, capSysResource)

			for _, tt := range []struct {
				user          string
				auth, account int
				verdict       string
				decisions     int // bob's account decides again: his authentication failed
			}{{"alice", pamSuccess, pamSuccess, "OPEN", 1}, {"bob", pamAuthErr, pamPermDenied, "CLOSE", 2}} {
				os.Remove(report)
				before := 0
				if _, err := os.Stat(audit); err == nil {
					before = len(readAudit(t, audit))
				}
				mark := sink.Mark()
				lines := runHostDriver(t, s, tt.user, mode, 1)
				got := strings.Join(lines, "\n")
				// the module changed nothing of the host's
				if h := lineWith(lines, "host "); !strings.HasPrefix(h, "host ruid=65534 euid=0 fsize=0 ") || !strings.HasSuffix(h, " umask=000") {
					t.Errorf("the module changed the host's ids, limits or umask: %q", h)
				}
				if !canLift {
					if !strings.HasPrefix(got+"\n", steps(1, pamSystemErr, pamSystemErr)) {
						t.Errorf("%s: want PAM_SYSTEM_ERR, for a file size limit the helper cannot lift:\n%s", tt.user, got)
					}
					if l := grep(sink.Since(mark), "pam_accesscontrol(sshd:auth)", "limit could not be lifted", "denying"); len(l) != 1 {
						t.Errorf("%s: want one line saying why, got %q", tt.user, sink.Since(mark))
					}
					continue
				}
				if !strings.HasPrefix(got+"\n", steps(1, tt.auth, tt.account)) {
					t.Errorf("%s:\n%s\nsyslog %q", tt.user, got, grep(sink.Since(mark), "pam_accesscontrol("))
				}
				if l := grep(sink.Since(mark), "audit log"); len(l) != 0 {
					t.Errorf("%s: %q", tt.user, l)
				}
				data, err := os.ReadFile(report)
				if err != nil {
					t.Fatalf("%s: the helper's report: %v", tt.user, err)
				}
				for _, want := range []string{"Uid:\t0\t0\t0\t0\n", "Gid:\t0\t0\t0\t0\n", "fsize unlimited\n", "core 0\n", "umask 0022\n"} {
					if !strings.Contains(string(data), want) {
						t.Errorf("%s: the helper's process lacks %q:\n%s", tt.user, want, data)
					}
				}
				if n, err := strconv.Atoi(strings.TrimPrefix(lineWith(strings.Split(string(data), "\n"), "nofile "), "nofile ")); err != nil || n < 1024 {
					t.Errorf("%s: the helper's descriptor limit is the user's: %s", tt.user, data)
				}
				if _, err := os.Stat(audit); err != nil {
					t.Fatalf("%s: no audit log: %v", tt.user, err)
				}
				events := readAudit(t, audit)[before:]
				ok := len(events) == tt.decisions
				for _, e := range events {
					ok = ok && e.Kind == "decision" && e.User == tt.user && e.Verdict == tt.verdict
				}
				if !ok {
					t.Errorf("%s: audit events %+v, want %d decision %s", tt.user, events, tt.decisions, tt.verdict)
				}
			}
		})
	}
}

// TestHostUnknownOption: a module argument that is neither an option nor
// a script (a path, or a name ending in .py or .star) denies in every
// phase, with one line naming it; the helper is not run. After a script,
// every argument is the script's, whatever it looks like.
func TestHostUnknownOption(t *testing.T) {
	s := newPAMStack(t, "DEFAULT:OPEN\n")
	for _, arg := range []string{"allow=alice", "debugg", "Debug", "timeout", "debug=1", "nologin.pyc"} {
		line := s.moduleLine(arg)
		s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\nsession required "+line+"\n")
		for _, tt := range []struct{ op, phase string }{
			{"authenticate", "auth"}, {"acct_mgmt", "account"}, {"open_session", "session"}, {"setcred", "setcred"},
		} {
			mark := sink.Mark()
			out, code := s.pamtester(t, nil, "sshd", "alice", tt.op)
			if code == 0 {
				t.Errorf("%s, %s: got in:\n%s", arg, tt.op, out)
			}
			lines := sink.Since(mark)
			if named := grep(lines, arg); len(named) != 1 ||
				!strings.Contains(named[0], "pam_accesscontrol(sshd:"+tt.phase+"): unknown option "+arg+" (") {
				t.Errorf("%s, %s: want one line of the module's naming it, got %q", arg, tt.op, lines)
			}
			if l := grep(lines, "pam-accesscontrol["); len(l) != 0 {
				t.Errorf("%s, %s: the helper ran: %q", arg, tt.op, l)
			}
		}
	}

	// after the script, the script's argv
	script := filepath.Join(s.dir, "argv.py")
	must(t, os.WriteFile(script, []byte("def pam_sm_authenticate(pamh, flags, argv):\n"+
		"    if argv[1:] == [\"debugg\", \"allow=alice\", \"timeout\"]:\n        return pamh.PAM_SUCCESS\n"+
		"    return pamh.PAM_AUTH_ERR\n"), 0o644))
	s.service(t, "sshd", "auth required "+s.moduleLine("debug")+" "+script+" debugg allow=alice timeout\n")
	if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != 0 {
		t.Errorf("the script did not get its argv:\n%s", out)
	}
}
