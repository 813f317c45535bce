// Command pambench measures what the module costs a login: whole PAM
// transactions (pamtester through libpam and pam_wrapper) with our module,
// with pam_access.so holding the same rule, and with pam_permit.so alone,
// alternating in one run so that all three see the same machine. It prints
// medians, ratios and the peak resident set of the transaction's processes.
// Ours runs three times: asking the helper daemon, running the helper per
// call (no daemon), the module's fallback, and running pam_python's
// pam_permit.py in Starlark through the daemon.
//
//	go run ./test/pambench -build build [-rounds 200]
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type stack struct {
	name    string
	service string
	times   []time.Duration
	maxRSS  int64 // KiB
}

func main() {
	build := flag.String("build", "build", "directory with pam_accesscontrol.so and pam-accesscontrol-helper")
	rounds := flag.Int("rounds", 200, "transactions per stack")
	flag.Parse()
	if err := run(*build, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "pambench:", err)
		os.Exit(1)
	}
}

func run(build string, rounds int) error {
	build, err := filepath.Abs(build)
	if err != nil {
		return err
	}
	wrapper, err := findLib("libpam_wrapper.so")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "pambench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	svc := filepath.Join(dir, "svc")
	os.Mkdir(svc, 0o755)

	// The same decision three ways: root may log in, nobody else.
	socket := filepath.Join(dir, "helper.sock")
	script, err := filepath.Abs("examples/scripts/pam_permit.py")
	if err != nil {
		return err
	}
	daemon := exec.Command(filepath.Join(build, "pam-accesscontrol-helper"), "--daemon", "--socket", socket)
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() { daemon.Process.Kill(); daemon.Wait() }()
	for i := 0; ; i++ {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		if i == 500 {
			return fmt.Errorf("the daemon did not listen on %s", socket)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// a central syslog server that takes every event: the cost of the
	// outbox and its deliverer, not of the network
	logs, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer logs.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := logs.ReadFrom(buf); err != nil {
				return
			}
		}
	}()

	rules := filepath.Join(dir, "rules.conf")
	logged := filepath.Join(dir, "logged.conf")
	access := filepath.Join(dir, "access.conf")
	files := map[string]string{
		rules:                        "DEFAULT:CLOSE\nALL OPEN USER root\n",
		logged:                       "SYSLOG_SERVER:udp://" + logs.LocalAddr().String() + "\nDEFAULT:CLOSE\nALL OPEN USER root\n",
		access:                       "+:root:ALL\n-:ALL:ALL\n",
		filepath.Join(svc, "permit"): "account required pam_permit.so\n",
		filepath.Join(svc, "access"): "account required pam_access.so accessfile=" + access + "\n",
		filepath.Join(svc, "exec"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=none helper=%s/pam-accesscontrol-helper conf=%s rundir=%s logdir=%s\n",
			build, build, rules, filepath.Join(dir, "run"), dir),
		filepath.Join(svc, "daemon"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent conf=%s rundir=%s logdir=%s\n",
			build, socket, rules, filepath.Join(dir, "run"), dir),
		filepath.Join(svc, "logged"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent conf=%s rundir=%s logdir=%s\n",
			build, socket, logged, filepath.Join(dir, "run-logged"), dir),
		filepath.Join(svc, "script"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent rundir=%s %s\n",
			build, socket, filepath.Join(dir, "run"), script),
		filepath.Join(svc, "other"): "account required pam_deny.so\n",
	}
	for name, text := range files {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			return err
		}
	}
	stacks := []*stack{{name: "pam_permit.so", service: "permit"}, {name: "pam_access.so", service: "access"},
		{name: "ours, helper daemon", service: "daemon"}, {name: "ours, helper per call", service: "exec"},
		{name: "ours, daemon+syslog", service: "logged"},
		{name: "ours, pam_permit.py", service: "script"}}
	env := append(os.Environ(), "LD_PRELOAD="+wrapper, "PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+svc)

	for i := 0; i < rounds+5; i++ {
		for _, s := range stacks {
			d, rss, err := transaction(env, s.service)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if i >= 5 { // warm-up rounds are not counted
				s.times = append(s.times, d)
				s.maxRSS = max(s.maxRSS, rss)
			}
		}
	}

	base, access2 := median(stacks[0].times), median(stacks[1].times)
	fmt.Printf("PAM account transaction (pamtester, %d rounds each, alternating):\n", rounds)
	fmt.Printf("  %-22s %10s %10s %12s %14s\n", "stack", "median", "p90", "peak RSS", "vs pam_access")
	for _, s := range stacks {
		m := median(s.times)
		fmt.Printf("  %-22s %8.2fms %8.2fms %9.1f MiB %13.2fx\n", s.name, ms(m), ms(percentile(s.times, 90)),
			float64(s.maxRSS)/1024, float64(m)/float64(access2))
	}
	if hwm, err := peakRSS(daemon.Process.Pid); err == nil {
		fmt.Printf("helper daemon: peak RSS %.1f MiB after %d calls\n", float64(hwm)/1024, rounds+5)
	}
	for _, s := range stacks[2:] {
		ours := median(s.times)
		fmt.Printf("%s: ours/pam_access = %.2f, ours/pam_permit = %.2f, cost over pam_permit = %.2f ms\n",
			s.name, float64(ours)/float64(access2), float64(ours)/float64(base), ms(ours-base))
	}
	return nil
}

// transaction runs one pamtester acct_mgmt for root; it must succeed.
func transaction(env []string, service string) (time.Duration, int64, error) {
	cmd := exec.Command("pamtester", service, "root", "acct_mgmt")
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("pamtester: %v\n%s", err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, ru.Maxrss, nil // the largest of pamtester and its children (the helper)
}

func findLib(name string) (string, error) {
	m, _ := filepath.Glob("/usr/lib/*/" + name)
	if len(m) == 0 {
		return "", fmt.Errorf("%s not found (Debian package libpam-wrapper)", name)
	}
	return m[0], nil
}

func median(d []time.Duration) time.Duration { return percentile(d, 50) }

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// peakRSS reads a process's high-water mark of resident memory, in KiB.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib)
			return kib, err
		}
	}
	return 0, fmt.Errorf("no VmHWM")
}
