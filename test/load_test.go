package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loadDriver builds loaddriver/loaddriver.c once.
func loadDriver(t *testing.T) string {
	return buildOnce(t, "loaddriver", "cc", "-Wall", "-Werror", "-pthread", "-o", "OUT", "loaddriver/loaddriver.c", "-lpam")
}

var loadSummary = regexp.MustCompile(`(?m)^calls (\d+) wrong (\d+)\np50_us (\d+) p99_us (\d+) max_us (\d+)$`)

// runLoad runs loaddriver against the stack's sshd service and returns its
// counts: calls, wrong, p50, p99 and max latency in µs.
func runLoad(t *testing.T, s *pamStack, threads, rounds int, logins ...string) []int {
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
	var n []int
	for _, x := range m[1:] {
		v, _ := strconv.Atoi(x)
		n = append(n, v)
	}
	if n[1] != 0 {
		t.Errorf("%d of %d transactions got another answer than their rules give:\n%s", n[1], n[0], out)
	}
	return n
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

	n := runLoad(t, s, 1000, 1, logins...)
	t.Logf("1000 at once: p50 %.1f ms, p99 %.1f ms, max %.1f ms; daemon RSS %d KiB before, %d KiB after",
		float64(n[2])/1000, float64(n[3])/1000, float64(n[4])/1000, rss, procRSS(t, pid))
	// connections end with their calls; give the last goroutines a moment
	deadline := time.Now().Add(10 * time.Second)
	for procCount(t, pid, "fd") > fds && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if now := procCount(t, pid, "fd"); now > fds {
		t.Errorf("the daemon holds %d descriptors after the load, %d before", now, fds)
	}
}
