package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// loadDriver builds loaddriver/loaddriver.c once.
func loadDriver(t *testing.T) string {
	return buildOnce(t, "loaddriver", "cc", "-Wall", "-Werror", "-pthread", "-o", "OUT", "loaddriver/loaddriver.c", "-lpam")
}

var loadSummary = regexp.MustCompile(`(?m)^calls (\d+) wrong (\d+) in (\d+)\np50_us (\d+) p99_us (\d+) max_us (\d+)$`)

// loadResult is what loaddriver counted; latencies in µs.
type loadResult struct{ calls, wrong, in, p50, p99, max int }

// runLoad runs loaddriver against the stack's sshd service.
func runLoad(t *testing.T, s *pamStack, threads, rounds int, logins ...string) loadResult {
	t.Helper()
	args := append([]string{s.svc, "sshd", strconv.Itoa(threads), strconv.Itoa(rounds)}, logins...)
	out, err := command(loadDriver(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("loaddriver: %v\n%s", err, out)
	}
	m := loadSummary.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("loaddriver said:\n%s", out)
	}
	var n [6]int
	for i, x := range m[1:] {
		n[i], _ = strconv.Atoi(x)
	}
	t.Logf("loaddriver: %s", strings.TrimSpace(string(out)))
	return loadResult{n[0], n[1], n[2], n[3], n[4], n[5]}
}

// daemonPID finds the helper daemon serving socket.
func daemonPID(t *testing.T, socket string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, _ := os.ReadFile(p)
		args := strings.Split(string(data), "\x00")
		if len(args) >= 4 && args[0] == helper && args[1] == "--daemon" && args[3] == socket {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	t.Fatalf("no daemon on %s", socket)
	return 0
}

var reportLine = regexp.MustCompile(`daemon: (\d+) calls in progress, (\d+) goroutines, (\d+) descriptors`)

// daemonReport asks the daemon (SIGUSR1) what it holds: calls in
// progress, goroutines, descriptors.
func daemonReport(t *testing.T, pid int) (calls, goroutines, fds int) {
	t.Helper()
	mark := sink.Mark()
	must(t, syscall.Kill(pid, syscall.SIGUSR1))
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range sink.Since(mark) {
			if m := reportLine.FindStringSubmatch(l); m != nil {
				calls, _ = strconv.Atoi(m[1])
				goroutines, _ = strconv.Atoi(m[2])
				fds, _ = strconv.Atoi(m[3])
				return
			}
		}
	}
	t.Fatal("the daemon did not report on SIGUSR1")
	return
}

// procCount counts the entries of /proc/PID/DIR (fd, task).
func procCount(t *testing.T, pid int, dir string) int {
	entries, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), dir))
	must(t, err)
	return len(entries)
}

// procRSS is a process's resident set in KiB.
func procRSS(t *testing.T, pid int) int {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	must(t, err)
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatalf("no VmRSS for %d", pid)
	return 0
}

// TestDaemonLoad (issue 16): 1,000 PAM transactions at once through the
// daemon, from 1,000 threads of one host with real libpam: none fails or
// hangs, each gets the answer its rules give (alice and carol in, bob
// refused), and the daemon holds no more descriptors afterwards than
// before. Only the daemon can answer: the module's helper= is missing.
func TestDaemonLoad(t *testing.T) {
	s := newPAMStack(t, pamRules)
	socket, _ := startDaemon(t, s.dir)
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	s.service(t, "sshd", "auth required "+line+"\n")
	pid := daemonPID(t, socket)
	logins := []string{"alice=0", "bob=7", "carol=0"}
	runLoad(t, s, 10, 2, logins...) // warm: the daemon's caches and first files
	time.Sleep(200 * time.Millisecond)
	fds, rss := procCount(t, pid, "fd"), procRSS(t, pid)
	_, goroutines, _ := daemonReport(t, pid)

	r := runLoad(t, s, 1000, 1, logins...)
	if r.calls != 1000 || r.wrong != 0 {
		t.Errorf("%d of %d transactions got another answer than their rules give", r.wrong, r.calls)
	}
	t.Logf("1000 at once: p50 %.1f ms, p99 %.1f ms, max %.1f ms; daemon RSS %d KiB before, %d KiB after",
		float64(r.p50)/1000, float64(r.p99)/1000, float64(r.max)/1000, rss, procRSS(t, pid))
	// connections end with their calls; give the last goroutines a moment
	deadline := time.Now().Add(10 * time.Second)
	for procCount(t, pid, "fd") > fds && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if now := procCount(t, pid, "fd"); now > fds {
		t.Errorf("the daemon holds %d descriptors after the load, %d before", now, fds)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		calls, now, _ := daemonReport(t, pid)
		if calls == 0 && now <= goroutines {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after the load: %d calls in progress, %d goroutines (%d before)", calls, now, goroutines)
			break
		}
	}
}

// TestDaemonNumberLoad (issue 16): 200 users of a group limited to 3 log in
// at the same moment through the daemon, nobody logged in before: exactly
// 3 get in. logind (the fake, on a private bus) learns of no session: the
// limit holds because NUMBER decisions are serialised across the daemon's
// goroutines and count the logins still in progress.
func TestDaemonNumberLoad(t *testing.T) {
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testenv.Missing(t, "dbus-daemon")
	}
	s := newPAMStack(t, "SSHD OPEN GROUP g\nSSHD NUMBER GROUP g:3\n")
	var passwd, members strings.Builder
	var logins []string
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&passwd, "n%03d:x:%d:100::/home/n%03d:/bin/sh\n", i, 4000+i, i)
		if i > 1 {
			members.WriteString(",")
		}
		fmt.Fprintf(&members, "n%03d", i)
		logins = append(logins, fmt.Sprintf("n%03d=7", i)) // refused unless among the 3
	}
	passwd.WriteString("root:x:0:0::/root:/bin/sh\n")
	must(t, os.WriteFile(filepath.Join(s.dir, "passwd"), []byte(passwd.String()), 0o644))
	must(t, os.WriteFile(filepath.Join(s.dir, "group"), []byte("root:x:0:\nusers:x:100:\ng:x:500:"+members.String()+"\n"), 0o644))
	bus, err := testbus.StartBus()
	must(t, err)
	t.Cleanup(bus.Stop)
	fake, err := logindtest.New(bus.Address)
	must(t, err)
	t.Cleanup(fake.Close)

	socket, _ := startDaemon(t, s.dir, append(testenv.NSSWrapperEnv(t, filepath.Join(s.dir, "passwd"), filepath.Join(s.dir, "group")),
		"DBUS_SYSTEM_BUS_ADDRESS="+bus.Address)...)
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	s.service(t, "sshd", "auth required "+line+"\n")
	mark := sink.Mark()
	r := runLoad(t, s, 200, 1, logins...)
	if r.calls != 200 || r.in != 3 || r.wrong != 3 {
		lines := sink.Since(mark)
		if len(lines) > 20 {
			lines = lines[:20]
		}
		t.Errorf("%d of %d got in, want exactly 3; first lines logged:\n%s", r.in, r.calls, strings.Join(lines, "\n"))
	}
}
