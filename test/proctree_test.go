package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killTree kills the process group of root and every process descended
// from root, and waits until none of them can run any more (gone or a
// zombie). sshd's connection children call setsid, so killing sshd's group
// leaves them running: a session still closing writes into the test's
// directory while TempDir's cleanup removes it ("directory not empty").
// Each process found is stopped before its children are looked for, so
// none forks a child that escapes the walk.
func killTree(root int) {
	syscall.Kill(root, syscall.SIGSTOP)
	stopped := map[int]bool{root: true}
	for changed := true; changed; {
		changed = false
		for pid, ppid := range parents() {
			if stopped[ppid] && !stopped[pid] {
				syscall.Kill(pid, syscall.SIGSTOP)
				stopped[pid] = true
				changed = true
			}
		}
	}
	syscall.Kill(-root, syscall.SIGKILL)
	for pid := range stopped {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		alive := false
		for pid := range stopped {
			if pid != root && running(pid) {
				alive = true
			}
		}
		if !alive {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parents maps each process's pid to its parent's, from /proc.
func parents() map[int]int {
	m := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		if pid, ppid, _, ok := procStat(p); ok {
			m[pid] = ppid
		}
	}
	return m
}

// running reports whether pid is a process that is not a zombie.
func running(pid int) bool {
	_, _, state, ok := procStat(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	return ok && state != "Z" && state != "X"
}

// procStat reads the pid, parent pid and state from a /proc/<pid>/stat
// file; the command name in parentheses may hold spaces and parentheses.
func procStat(path string) (pid, ppid int, state string, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, "", false
	}
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	open := strings.IndexByte(s, '(')
	if end < 0 || open < 1 {
		return 0, 0, "", false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return 0, 0, "", false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(s[:open]))
	ppid, err2 := strconv.Atoi(f[1])
	return pid, ppid, f[0], err1 == nil && err2 == nil
}

// TestKillTree plays sshd: a child that left the group with setsid keeps
// writing into the test's directory. After killTree it runs no more.
func TestKillTree(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `setsid sh -c 'echo $$ > "$0/pid.tmp"; mv "$0/pid.tmp" "$0/pid"; while :; do : > "$0/f"; sleep 0.01; done' "$0" & wait`, dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	var writer int
	for deadline := time.Now().Add(10 * time.Second); writer == 0; time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(filepath.Join(dir, "pid"))
		writer, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		if writer == 0 && time.Now().After(deadline) {
			t.Fatal("the writer never started")
		}
	}
	t.Cleanup(func() { syscall.Kill(writer, syscall.SIGKILL) })
	killTree(cmd.Process.Pid)
	cmd.Wait()
	if running(writer) {
		t.Fatalf("the writer (pid %d, its own session) still runs after killTree", writer)
	}
}
