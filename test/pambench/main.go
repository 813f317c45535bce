// Command pambench measures what the module costs a login: whole PAM
// transactions (pamtester through libpam and pam_wrapper) with our module,
// with pam_access.so holding the same rule, and with pam_permit.so alone,
// alternating in one run so that all three see the same machine. It prints
// medians, ratios and the peak resident set of the transaction's processes.
// Ours runs three times: asking the helper daemon, running the helper per
// call (no daemon; the lean helper, stripped, as the packages ship it), the
// module's fallback, and running pam_python's
// pam_permit.py in Starlark through the daemon. The same pam_permit.py
// runs twice more in real CPython: through the daemon in the interpreter
// our module starts for each login (interpreter=), and in Debian's
// pam_python.so, which embeds CPython in the PAM application.
//
// Then the memory a login's Python costs, while a transaction holds it
// (pamtester waits at a password prompt after acct_mgmt): the RSS and PSS
// of the interpreter our module started, against the growth of the
// application's own RSS and PSS with pam_python.so loaded over the same
// stack with pam_permit.so.
//
//	go run ./test/pambench -build build [-rounds 200]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// loadCalls is -load.
var loadCalls *int

func main() {
	build := flag.String("build", "build", "directory with pam_accesscontrol.so and pam-accesscontrol-helper")
	rounds := flag.Int("rounds", 200, "transactions per stack")
	loadCalls = flag.Int("load", 100000, "transactions of the load run (1,000 at once), 0 for none")
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
	// the run directories where an installed module keeps them: on tmpfs,
	// as /run is on a systemd host (a disk's journal would be measured)
	state, err := tmpfsDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)

	// The same decision three ways: root may log in, nobody else; and
	// pam_python's pam_permit.py three ways.
	socket := filepath.Join(dir, "helper.sock")
	script, err := filepath.Abs("examples/scripts/pam_permit.py")
	if err != nil {
		return err
	}
	// the helper run per call as the packages ship it: stripped as
	// installer/dist/nfpm/package.sh strips it (the build keeps its
	// symbols), which spares each start the symbol tables' pages; the
	// lean helper, with the full one beside it for what it hands on
	packaged := filepath.Join(dir, "pam-accesscontrol-helper")
	for _, name := range []string{"pam-accesscontrol-helper", "pam-accesscontrol-helper-full"} {
		strip := exec.Command("strip", "--strip-unneeded", "--remove-section=.comment", "--remove-section=.note",
			"-o", filepath.Join(dir, name), filepath.Join(build, name))
		if out, err := strip.CombinedOutput(); err != nil {
			return fmt.Errorf("stripping %s as the packages do: %v\n%s", name, err, out)
		}
	}
	phaseLog := filepath.Join(dir, "phases.jsonl")
	daemon := exec.Command(filepath.Join(build, "pam-accesscontrol-helper"), "--daemon", "--socket", socket, "--phase-log", phaseLog)
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() { daemon.Process.Kill(); daemon.Wait() }()
	for i := 0; ; i++ {
		if _, err := os.Stat(socket); err == nil {
			time.Sleep(50 * time.Millisecond) // bound, and listening a moment later
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

	python, pamPython, err := pythons()
	if err != nil {
		return err
	}
	matrix, err := findLib("pam_wrapper/pam_matrix.so")
	if err != nil {
		return err
	}
	passdb := filepath.Join(dir, "passdb")

	rules := filepath.Join(dir, "rules.conf")
	logged := filepath.Join(dir, "logged.conf")
	access := filepath.Join(dir, "access.conf")
	files := map[string]string{
		rules:                        "DEFAULT:CLOSE\nALL OPEN USER root\n",
		logged:                       "SYSLOG_SERVER:udp://" + logs.LocalAddr().String() + "\nDEFAULT:CLOSE\nALL OPEN USER root\n",
		access:                       "+:root:ALL\n-:ALL:ALL\n",
		filepath.Join(svc, "permit"): "account required pam_permit.so\n",
		filepath.Join(svc, "access"): "account required pam_access.so accessfile=" + access + "\n",
		filepath.Join(svc, "exec"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=none helper=%s conf=%s rundir=%s logdir=%s\n",
			build, packaged, rules, filepath.Join(state, "run"), dir),
		filepath.Join(svc, "daemon"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent conf=%s rundir=%s logdir=%s\n",
			build, socket, rules, filepath.Join(state, "run"), dir),
		filepath.Join(svc, "logged"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent conf=%s rundir=%s logdir=%s\n",
			build, socket, logged, filepath.Join(state, "run-logged"), dir),
		filepath.Join(svc, "script"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent rundir=%s %s\n",
			build, socket, filepath.Join(state, "run"), script),
		filepath.Join(svc, "pyengine"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent rundir=%s interpreter=%s %s\n",
			build, socket, filepath.Join(state, "run"), python, script),
		filepath.Join(svc, "pam_python"): fmt.Sprintf("account required %s %s\n", pamPython, script),
		filepath.Join(svc, "other"):      "account required pam_deny.so\n",
		// loaddriver's: authenticate, through the daemon only
		filepath.Join(svc, "load"): fmt.Sprintf("auth required %s/pam_accesscontrol.so socket=%s helper=/nonexistent conf=%s rundir=%s logdir=%s\n",
			build, socket, rules, filepath.Join(state, "run-load"), dir),
		// the memory stacks: acct_mgmt, then pam_matrix's password prompt
		// holds the transaction
		passdb:                            "root:secret:hold-permit\nroot:secret:hold-pam_python\nroot:secret:hold-pyengine\n",
		filepath.Join(svc, "hold-permit"): fmt.Sprintf("account required pam_permit.so\nauth required %s passdb=%s\n", matrix, passdb),
		filepath.Join(svc, "hold-pam_python"): fmt.Sprintf("account required %s %s\nauth required %s passdb=%s\n",
			pamPython, script, matrix, passdb),
		filepath.Join(svc, "hold-pyengine"): fmt.Sprintf("account required %s/pam_accesscontrol.so socket=%s helper=/nonexistent rundir=%s interpreter=%s %s\nauth required %s passdb=%s\n",
			build, socket, filepath.Join(state, "run-hold"), python, script, matrix, passdb),
	}
	for name, text := range files {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			return err
		}
	}
	stacks := []*stack{{name: "pam_permit.so", service: "permit"}, {name: "pam_access.so", service: "access"},
		{name: "ours, helper daemon", service: "daemon"}, {name: "ours, helper per call", service: "exec"},
		{name: "ours, daemon+syslog", service: "logged"},
		{name: "ours, pam_permit.py", service: "script"},
		{name: "pam_permit.py via interpreter=", service: "pyengine"},
		{name: "pam_permit.py via pam_python.so", service: "pam_python"}}
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
	fmt.Printf("  %-31s %10s %10s %12s %14s\n", "stack", "median", "p90", "peak RSS", "vs pam_access")
	for _, s := range stacks {
		m := median(s.times)
		fmt.Printf("  %-31s %8.2fms %8.2fms %9.1f MiB %13.2fx\n", s.name, ms(m), ms(percentile(s.times, 90)),
			float64(s.maxRSS)/1024, float64(m)/float64(access2))
	}
	if hwm, err := peakRSS(daemon.Process.Pid); err == nil {
		fmt.Printf("helper daemon: peak RSS %.1f MiB after %d calls\n", float64(hwm)/1024, rounds+5)
	}
	// A round runs every stack once, back to back: the median of one
	// round's difference (and ratio) is steadier on a VM whose speed
	// drifts than the difference of the medians.
	for _, s := range stacks[2:] {
		ours := median(s.times)
		fmt.Printf("%s: /pam_access = %.2f, /pam_permit = %.2f, cost over pam_permit = %.2f ms; paired by round: /pam_access = %.2f, cost over pam_permit = %.2f ms\n",
			s.name, float64(ours)/float64(access2), float64(ours)/float64(base), ms(ours-base),
			pairedRatio(s.times, stacks[1].times), ms(pairedDiff(s.times, stacks[0].times)))
	}
	if err := printPhases(phaseLog, "daemon"); err != nil {
		return err
	}
	if err := load(dir, svc, daemon.Process.Pid, *loadCalls); err != nil {
		return err
	}
	starlark, interp, embedded := median(stacks[5].times), median(stacks[6].times), median(stacks[7].times)
	fmt.Printf("pam_permit.py: via interpreter= / via pam_python.so = %.2f (%+.2f ms a login); Starlark / pam_python.so = %.2f (%+.2f ms)\n",
		float64(interp)/float64(embedded), ms(interp-embedded), float64(starlark)/float64(embedded), ms(starlark-embedded))
	if err := pythonStart(python); err != nil {
		return err
	}
	return memory(env, filepath.Join(state, "run-hold"))
}

// pythonStart measures what starting a Python costs on this machine
// (site and its .pth files included), which both CPython rows pay once a
// login: the part of them no module can change.
func pythonStart(python string) error {
	var times []time.Duration
	for i := 0; i < 55; i++ {
		start := time.Now()
		if out, err := exec.Command(python, "-I", "-c", "pass").CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", python, err, out)
		}
		if i >= 5 {
			times = append(times, time.Since(start))
		}
	}
	fmt.Printf("%s -I -c pass (a Python's start, which both CPython rows pay): median %.2f ms, p90 %.2f ms\n",
		python, ms(median(times)), ms(percentile(times, 90)))
	return nil
}

// pythons finds the interpreter for interpreter= (/usr/bin/python3, as a
// module line names it) and Debian's pam_python.so.
func pythons() (string, string, error) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		return "", "", fmt.Errorf("%s: %v (Debian package python3)", python, err)
	}
	for _, p := range []string{"/lib/security/pam_python.so", "/usr/lib/security/pam_python.so"} {
		if _, err := os.Stat(p); err == nil {
			return python, p, nil
		}
	}
	return "", "", fmt.Errorf("pam_python.so not found in /lib/security (Debian package libpam-python)")
}

// memRounds is how many held transactions each memory stack gets.
const memRounds = 7

// usage is a process's resident memory, in KiB.
type usage struct{ rss, pss int64 }

// memory measures, while a transaction holds it, what a login's Python
// costs: the interpreter our module started (its RSS and PSS), against
// what loading pam_python.so adds to the application (pamtester's RSS and
// PSS over the same stack with pam_permit.so). Medians of memRounds
// rounds, alternating.
func memory(env []string, runDir string) error {
	var permit, embedded, ours, interp []usage
	for i := 0; i < memRounds; i++ {
		u, _, err := hold(env, "hold-permit", "")
		if err != nil {
			return fmt.Errorf("pam_permit.so held: %w", err)
		}
		permit = append(permit, u)
		if u, _, err = hold(env, "hold-pam_python", ""); err != nil {
			return fmt.Errorf("pam_python.so held: %w", err)
		}
		embedded = append(embedded, u)
		u, py, err := hold(env, "hold-pyengine", runDir)
		if err != nil {
			return fmt.Errorf("interpreter= held: %w", err)
		}
		ours, interp = append(ours, u), append(interp, py)
	}
	p, e, o, py := medianUsage(permit), medianUsage(embedded), medianUsage(ours), medianUsage(interp)
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	fmt.Printf("A login's Python, held mid-transaction (median of %d, RSS / PSS):\n", memRounds)
	fmt.Printf("  %-52s %7.1f / %5.1f MiB\n", "application (pamtester), pam_permit.so", mib(p.rss), mib(p.pss))
	fmt.Printf("  %-52s %7.1f / %5.1f MiB\n", "application, pam_python.so + pam_permit.py", mib(e.rss), mib(e.pss))
	fmt.Printf("  %-52s %7.1f / %5.1f MiB\n", "application, ours (interpreter=) + pam_permit.py", mib(o.rss), mib(o.pss))
	fmt.Printf("  %-52s %7.1f / %5.1f MiB\n", "the Python our module started for the login", mib(py.rss), mib(py.pss))
	fmt.Printf("pam_python.so grows the application by %.1f MiB RSS, %.1f MiB PSS; interpreter= grows it by %d / %d KiB and runs a Python of %.1f / %.1f MiB beside it\n",
		mib(e.rss-p.rss), mib(e.pss-p.pss), o.rss-p.rss, o.pss-p.pss, mib(py.rss), mib(py.pss))
	fmt.Printf("a login's Python: interpreter= / pam_python.so = %.2f (RSS), %.2f (PSS)\n",
		float64(o.rss-p.rss+py.rss)/float64(e.rss-p.rss), float64(o.pss-p.pss+py.pss)/float64(e.pss-p.pss))
	return nil
}

// hold runs pamtester acct_mgmt then authenticate, whose password prompt
// keeps the transaction (and a Python its acct_mgmt started) alive while
// pamtester's memory, and that of the Python under runDir when runDir is
// given, is read; then it answers and requires success.
func hold(env []string, service, runDir string) (usage, usage, error) {
	cmd := exec.Command("pamtester", service, "root", "acct_mgmt", "authenticate")
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		return usage{}, usage{}, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return usage{}, usage{}, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		return usage{}, usage{}, err
	}
	w.Close()
	defer r.Close()
	fail := func(err error) (usage, usage, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return usage{}, usage{}, err
	}
	// wait for the prompt
	var out []byte
	r.SetReadDeadline(time.Now().Add(20 * time.Second))
	for !strings.Contains(string(out), "assword") {
		buf := make([]byte, 512)
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return fail(fmt.Errorf("no password prompt: %v\n%s", err, out))
		}
	}
	host, err := memUsage(cmd.Process.Pid)
	if err != nil {
		return fail(err)
	}
	var py usage
	if runDir != "" {
		pid, err := findByArg(runDir)
		if err != nil {
			return fail(err)
		}
		if py, err = memUsage(pid); err != nil {
			return fail(err)
		}
	}
	io.WriteString(in, "secret\n")
	in.Close()
	rest, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		return usage{}, usage{}, fmt.Errorf("pamtester: %v\n%s%s", err, out, rest)
	}
	return host, py, nil
}

// findByArg finds the one process with an argument under dir: the Python
// our module started, whose socket is in its run directory.
func findByArg(dir string) (int, error) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	found := 0
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(data), dir+"/") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if found != 0 {
			return 0, fmt.Errorf("two processes with %s: %d and %d", dir, found, pid)
		}
		found = pid
	}
	if found == 0 {
		return 0, fmt.Errorf("no Python with %s", dir)
	}
	return found, nil
}

// memUsage reads a process's resident set (VmRSS) and proportional set
// size (Pss of smaps_rollup), in KiB.
func memUsage(pid int) (usage, error) {
	var u usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return u, err
	}
	if u.rss, err = field(string(status), "VmRSS:"); err != nil {
		return u, err
	}
	u.pss, err = field(string(rollup), "Pss:")
	return u, err
}

// field reads "NAME: N kB" from /proc text.
func field(text, name string) (int64, error) {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			var kib int64
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib)
			return kib, err
		}
	}
	return 0, fmt.Errorf("no %s", name)
}

func medianUsage(u []usage) usage {
	rss, pss := make([]int64, len(u)), make([]int64, len(u))
	for i, x := range u {
		rss[i], pss[i] = x.rss, x.pss
	}
	slices.Sort(rss)
	slices.Sort(pss)
	return usage{rss[(len(u)-1)/2], pss[(len(u)-1)/2]}
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
func peakRSS(pid int) (int64, error) { return statusKiB(pid, "VmHWM") }

// statusKiB is a field of /proc/PID/status in KiB (VmRSS, VmHWM).
func statusKiB(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kib int64
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib)
			return kib, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// tmpfsDir makes a directory on tmpfs: /run's when it is one, else
// /dev/shm's.
func tmpfsDir() (string, error) {
	for _, base := range []string{"/run", "/dev/shm"} {
		var st syscall.Statfs_t
		if syscall.Statfs(base, &st) == nil && st.Type == 0x01021994 { // TMPFS_MAGIC
			dir, err := os.MkdirTemp(base, "pambench")
			if err == nil {
				err = os.Chmod(dir, 0o755)
			}
			return dir, err
		}
	}
	return "", fmt.Errorf("no tmpfs at /run or /dev/shm for the run directories")
}

// pairedDiff is the median of a[i]-b[i]: the cost of a over b in the same
// round.
func pairedDiff(a, b []time.Duration) time.Duration {
	d := make([]time.Duration, min(len(a), len(b)))
	for i := range d {
		d[i] = a[i] - b[i]
	}
	return median(d)
}

// pairedRatio is the median of a[i]/b[i].
func pairedRatio(a, b []time.Duration) float64 {
	r := make([]float64, 0, min(len(a), len(b)))
	for i := range cap(r) {
		r = append(r, float64(a[i])/float64(b[i]))
	}
	if len(r) == 0 {
		return 0
	}
	slices.Sort(r)
	return r[(len(r)-1)/2]
}

// phaseOrder is how a daemon call's phases follow each other.
var phaseOrder = []string{"connect", "items", "decide", "log", "record"}

// printPhases prints, from the daemon's --phase-log, the median of each
// phase of the calls of service: where a rule decision's time goes.
func printPhases(path, service string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	per := map[string][]time.Duration{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(l), &line) != nil || line["service"] != service {
			continue
		}
		var total time.Duration
		for _, p := range phaseOrder {
			if us, ok := line[p].(float64); ok {
				d := time.Duration(us) * time.Microsecond
				per[p] = append(per[p], d)
				total += d
			}
		}
		per["total"] = append(per["total"], total)
	}
	if len(per["total"]) == 0 {
		return fmt.Errorf("%s: no phases of service %s", path, service)
	}
	fmt.Printf("ours, helper daemon, inside the daemon (median of %d calls):", len(per["total"]))
	for _, p := range append(phaseOrder, "total") {
		fmt.Printf(" %s %.3f ms", p, ms(median(per[p])))
		if p != "total" {
			fmt.Print(",")
		}
	}
	fmt.Println()
	return nil
}

// load runs 1,000 PAM transactions at once through the daemon, again and
// again, with loaddriver (real libpam, one host's threads): latency, and
// the daemon's memory after the first 10,000 calls and after all of them,
// each read after the daemon collected its garbage (kept), which must
// stay within 10% (no leak): more is an error.
func load(dir, svc string, daemon, calls int) error {
	if calls <= 0 {
		return nil
	}
	driver := filepath.Join(dir, "loaddriver")
	if out, err := exec.Command("cc", "-O2", "-Wall", "-Werror", "-pthread", "-o", driver, "test/loaddriver/loaddriver.c", "-lpam").CombinedOutput(); err != nil {
		return fmt.Errorf("building loaddriver: %v\n%s", err, out)
	}
	const threads = 1000
	run := func(rounds int) (string, error) {
		out, err := exec.Command(driver, svc, "load", fmt.Sprint(threads), fmt.Sprint(rounds), "root=0", "nobody=7").CombinedOutput()
		if err != nil || !strings.Contains(string(out), " wrong 0 ") {
			return "", fmt.Errorf("loaddriver: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	first := min(10000, calls)
	start := time.Now()
	out, err := run(max(first/threads, 1))
	if err != nil {
		return err
	}
	rss10k, err := keptKiB(daemon)
	if err != nil {
		return err
	}
	fmt.Printf("load, %d at once: first %d calls: %s; daemon RSS %.1f MiB (after a collection)\n", threads, first, strings.ReplaceAll(out, "\n", ", "), float64(rss10k)/1024)
	if rest := calls - first; rest > 0 {
		if out, err = run(max(rest/threads, 1)); err != nil {
			return err
		}
		rss, err := keptKiB(daemon)
		if err != nil {
			return err
		}
		ratio := float64(rss) / float64(rss10k)
		fmt.Printf("load, %d at once: next %d calls: %s; daemon RSS %.1f MiB, %.2fx after %d calls (%.0f s in all)\n",
			threads, rest, strings.ReplaceAll(out, "\n", ", "), float64(rss)/1024, ratio, calls, time.Since(start).Seconds())
		if ratio > 1.10 {
			return fmt.Errorf("the daemon keeps %.2fx the memory after %d calls that it kept after %d: a leak?", ratio, calls, first)
		}
	}
	return nil
}

// keptKiB is the daemon's resident set once it has collected its garbage
// and returned the free memory (SIGUSR1 does both before it reports),
// in KiB: what it keeps, not where its collector happened to be.
func keptKiB(daemon int) (int64, error) {
	if err := syscall.Kill(daemon, syscall.SIGUSR1); err != nil {
		return 0, err
	}
	// the report is logged when it is done; its time here is generous
	time.Sleep(time.Second)
	return statusKiB(daemon, "VmRSS")
}
