// Command servebench measures `pam-accesscontrol serve` (make bench):
// requests per second and p50/p99 latency of POST /auth, GET /token and
// POST /authenticate, beside test/barepam, a bare net/http server whose
// every request is one PAM transaction through the same PAM stack with
// github.com/msteinert/pam/v2 (what pam_hook is). The stack is pam_matrix
// (the password) and our module (auth and account, through the helper
// daemon, as an installed host runs it); both servers run it with
// pam_start_confdir from one directory. The load is wrk's (Debian package
// wrk), over plain HTTP on loopback, with a fixed number of connections.
//
// The machine may be shared and noisy: each round runs every target once,
// back to back, and the report gives the median of the rounds of each
// number, and the median of the per-round ratios ours / bare (a round's
// ratio sees one machine). The targets: our full path at most
// 1.25x the bare server's latency, /authenticate (no PAM) at least 20,000
// requests per second. /authenticate runs twice: with serve's default
// --nss-cache-ttl (one token of one user again and again, so NSS is asked
// once in ten seconds) and with 0 (NSS asked every time, as for users not
// reviewed in the last seconds).
//
// Besides what wrk sees, the CPU time each request cost the server's
// process and wrk (/proc/PID/stat, rusage): less disturbed by the other
// load of a shared machine than throughput and latency, it says what two
// idle cores would do.
//
//	go run ./test/servebench -build build [-rounds 5] [-duration 5s]
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	build := flag.String("build", "build", "directory with pam_accesscontrol.so, pam-accesscontrol-helper and pam-accesscontrol")
	rounds := flag.Int("rounds", 5, "rounds; each runs every target once")
	duration := flag.Duration("duration", 5*time.Second, "wrk's run per target and round")
	conns := flag.Int("conns", 8, "connections for the PAM endpoints (at most serve's --max-transactions, 16)")
	fastConns := flag.Int("fast-conns", 64, "connections for /authenticate")
	flag.Parse()
	if err := run(*build, *rounds, *duration, *conns, *fastConns); err != nil {
		fmt.Fprintln(os.Stderr, "servebench:", err)
		os.Exit(1)
	}
}

// target is one load: a URL, a method, headers and a body.
type target struct {
	name, method, url, body string
	script                  string // wrk's Lua
	pid                     int    // the server's process
	headers                 map[string]string
	conns                   int
	runs                    []result
}

// result is one wrk run.
type result struct {
	RPS           float64
	P50, P99      time.Duration
	Requests, Bad int64
	// CPU time a request cost the server and wrk: what the machine's
	// other load does not change much, unlike RPS and latency
	ServerCPU, WrkCPU time.Duration
}

func run(build string, rounds int, duration time.Duration, conns, fastConns int) error {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk not found (Debian package wrk)")
	}
	build, err = filepath.Abs(build)
	if err != nil {
		return err
	}
	matrix, err := findLib("pam_wrapper/pam_matrix.so")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "servebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	svc := filepath.Join(dir, "svc")
	os.Mkdir(svc, 0o755)

	bare := filepath.Join(dir, "barepam")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bare, "./test/barepam").CombinedOutput(); err != nil {
		return fmt.Errorf("building test/barepam: %v\n%s", err, out)
	}

	socket := filepath.Join(dir, "helper.sock")
	daemon := exec.Command(filepath.Join(build, "pam-accesscontrol-helper"), "--daemon", "--socket", socket)
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() { daemon.Process.Kill(); daemon.Wait() }()
	if err := waitFor(func() bool { _, err := os.Stat(socket); return err == nil }); err != nil {
		return fmt.Errorf("the helper daemon did not listen on %s", socket)
	}
	time.Sleep(50 * time.Millisecond) // bound, and listening a moment later

	// root: every host's NSS has it, with its groups and uid
	rules := filepath.Join(dir, "rules.conf")
	passdb := filepath.Join(dir, "passdb")
	module := fmt.Sprintf("%s/pam_accesscontrol.so socket=%s helper=/nonexistent conf=%s rundir=%s logdir=%s",
		build, socket, rules, filepath.Join(dir, "run"), dir)
	stack := fmt.Sprintf("auth required %s passdb=%s\nauth required %s\naccount required %s\n", matrix, passdb, module, module)
	key := filepath.Join(dir, "signing.key")
	for name, text := range map[string]string{
		rules:                            "DEFAULT:CLOSE\nALL OPEN USER root\n",
		passdb:                           "root:secret:web\nroot:secret:kubernetes\n",
		filepath.Join(svc, "web"):        stack,
		filepath.Join(svc, "kubernetes"): stack,
		filepath.Join(svc, "other"):      "auth required pam_deny.so\naccount required pam_deny.so\n",
		key:                              "servebench-servebench-servebench-0123\n",
	} {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			return err
		}
	}

	// serve as it runs: rate limits in memory (set so high that one user
	// hammering is never refused: the limiter's cost is measured, not its
	// 429s), metrics, the audit of every decision by the bench's config
	// and spool
	observe := []string{"--rate-limit", "1e9", "--rate-burst", "1000000", "--rate-failures", "1000000",
		"--rate-address-failures", "1000000", "--conf", rules, "--spool-dir", filepath.Join(dir, "spool")}
	ours, oursPID, stopOurs, err := start(dir, "serve", func(addr string) *exec.Cmd {
		return exec.Command(filepath.Join(build, "pam-accesscontrol"), append([]string{"serve", "--listen", addr, "--pam-confdir", svc,
			"--signing-key", key, "--audience", "k8s"}, observe...)...)
	}, "/heartbeat")
	if err != nil {
		return err
	}
	defer stopOurs()
	// the same with NSS asked for every TokenReview (--nss-cache-ttl 0):
	// what a review of a user not reviewed in the last seconds costs
	uncached, uncachedPID, stopUncached, err := start(dir, "serve-uncached", func(addr string) *exec.Cmd {
		return exec.Command(filepath.Join(build, "pam-accesscontrol"), append([]string{"serve", "--listen", addr, "--pam-confdir", svc,
			"--signing-key", key, "--audience", "k8s", "--nss-cache-ttl", "0"}, observe...)...)
	}, "/heartbeat")
	if err != nil {
		return err
	}
	defer stopUncached()
	bareURL, barePID, stopBare, err := start(dir, "barepam", func(addr string) *exec.Cmd {
		return exec.Command(bare, "-listen", addr, "-confdir", svc, "-service", "web")
	}, "")
	if err != nil {
		return err
	}
	defer stopBare()

	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("root:secret"))}
	tok, err := kubeToken(ours + "/token")
	if err != nil {
		return err
	}
	review := fmt.Sprintf(`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":%q,"audiences":["https://kubernetes.default.svc","k8s"]},"status":{"user":{}}}`, tok)
	// the PAM rows twice: one connection (a request's own latency) and
	// conns (latency with requests queued for the CPU and the daemon)
	var targets []*target
	for _, n := range []int{1, conns} {
		targets = append(targets,
			&target{name: "bare PAM server (msteinert/pam)", method: "GET", url: bareURL + "/", headers: basic, conns: n, pid: barePID},
			&target{name: "serve POST /auth", method: "POST", url: ours + "/auth", body: `{"username":"root","password":"secret"}`,
				headers: map[string]string{"Content-Type": "application/json"}, conns: n, pid: oursPID},
			&target{name: "serve GET /token", method: "GET", url: ours + "/token", headers: basic, conns: n, pid: oursPID})
	}
	targets = append(targets,
		&target{name: "serve POST /authenticate", method: "POST", url: ours + "/authenticate", body: review,
			headers: map[string]string{"Content-Type": "application/json"}, conns: fastConns, pid: oursPID},
		&target{name: "serve POST /authenticate, NSS uncached", method: "POST", url: uncached + "/authenticate", body: review,
			headers: map[string]string{"Content-Type": "application/json"}, conns: fastConns, pid: uncachedPID})
	for _, t := range targets {
		if t.script, err = writeScript(dir, t); err != nil {
			return err
		}
		if _, err := t.load(wrk, time.Second); err != nil { // warm-up, not counted
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	for i := 0; i < rounds; i++ {
		for _, t := range targets {
			r, err := t.load(wrk, duration)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.runs = append(t.runs, r)
		}
	}
	report(targets, rounds, duration)
	return nil
}

func report(targets []*target, rounds int, duration time.Duration) {
	fmt.Printf("pam-accesscontrol serve against a bare PAM server (wrk over loopback HTTP, %d rounds of %v each, medians; a shared machine: see the spread):\n", rounds, duration)
	fmt.Printf("  %-40s %5s %10s %10s %10s %18s %12s %10s\n", "target", "conns", "req/s", "p50", "p99", "req/s min..max", "server CPU", "wrk CPU")
	for _, t := range targets {
		rps := med(t.runs, func(r result) float64 { return r.RPS })
		lo := slices.MinFunc(t.runs, func(a, b result) int { return cmpF(a.RPS, b.RPS) }).RPS
		hi := slices.MaxFunc(t.runs, func(a, b result) int { return cmpF(a.RPS, b.RPS) }).RPS
		fmt.Printf("  %-40s %5d %10.0f %8.2fms %8.2fms %8.0f..%-8.0f %9.1f us %7.1f us\n", t.name, t.conns, rps,
			med(t.runs, func(r result) float64 { return ms(r.P50) }), med(t.runs, func(r result) float64 { return ms(r.P99) }), lo, hi,
			med(t.runs, func(r result) float64 { return us(r.ServerCPU) }), med(t.runs, func(r result) float64 { return us(r.WrkCPU) }))
	}
	fmt.Printf("(server CPU, wrk CPU: CPU time per request, user+system, of the server's process and of wrk; the PAM rows' helper daemon is not counted)\n")
	for i := 0; i+3 <= len(targets) && strings.HasPrefix(targets[i].name, "bare"); i += 3 {
		bare := targets[i]
		for _, t := range targets[i+1 : i+3] {
			p50 := pairedRatio(t.runs, bare.runs, func(r result) float64 { return float64(r.P50) })
			p99 := pairedRatio(t.runs, bare.runs, func(r result) float64 { return float64(r.P99) })
			rps := pairedRatio(bare.runs, t.runs, func(r result) float64 { return r.RPS })
			verdict := "within"
			if p50 > 1.25 {
				verdict = "OVER"
			}
			fmt.Printf("%s / bare, %d connections, paired by round: p50 %.2fx, p99 %.2fx, time per request (1/throughput) %.2fx: %s the 1.25x target\n",
				t.name, t.conns, p50, p99, rps, verdict)
		}
	}
	for _, a := range targets {
		if strings.Contains(a.name, "/authenticate") {
			fastReport(a, rounds)
		}
	}
}

// fastReport says what /authenticate did against its target of 20,000
// requests per second, measured and as the CPU time says two idle cores
// would do.
func fastReport(a *target, rounds int) {
	rps := med(a.runs, func(r result) float64 { return r.RPS })
	verdict := "meets"
	if rps < 20000 {
		verdict = "MISSES"
	}
	fmt.Printf("%s: %.0f requests per second (median of %d): %s the 20,000 target\n", a.name, rps, rounds, verdict)
	// what the CPU time says two cores would do with nothing else on
	// them: serve's and wrk's CPU per request, side by side on 2 cores
	cpu := med(a.runs, func(r result) float64 { return us(r.ServerCPU) + us(r.WrkCPU) })
	fmt.Printf("%s on %d idle cores, from CPU time per request (serve %.1f us + wrk %.1f us): about %.0f requests per second; serve alone on them: about %.0f\n",
		a.name, runtime.NumCPU(), med(a.runs, func(r result) float64 { return us(r.ServerCPU) }), med(a.runs, func(r result) float64 { return us(r.WrkCPU) }),
		float64(runtime.NumCPU())*1e6/cpu, float64(runtime.NumCPU())*1e6/med(a.runs, func(r result) float64 { return us(r.ServerCPU) }))
}

// start runs a server on a free loopback port until stop; it returns the
// base URL once path (or any request, for "") answers.
func start(dir, name string, cmd func(addr string) *exec.Cmd, path string) (string, int, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", 0, nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := cmd(addr)
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return "", 0, nil, err
	}
	c.Stdout, c.Stderr = logf, logf
	if err := c.Start(); err != nil {
		return "", 0, nil, err
	}
	stop := func() { c.Process.Signal(os.Interrupt); c.Wait(); logf.Close() }
	base := "http://" + addr
	if err := waitFor(func() bool {
		resp, err := http.Get(base + path)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}); err != nil {
		stop()
		log, _ := os.ReadFile(logf.Name())
		return "", 0, nil, fmt.Errorf("%s did not come up:\n%s", name, log)
	}
	return base, c.Process.Pid, stop, nil
}

func kubeToken(url string) (string, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("root", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET /token: %s %s", resp.Status, body)
	}
	return strings.TrimSpace(string(body)), nil
}

// writeScript writes wrk's Lua script for t: its request, and a done()
// that prints the numbers as one JSON line.
func writeScript(dir string, t *target) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", t.method)
	if t.body != "" {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(t.body))
	}
	for k, v := range t.headers {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", k, v)
	}
	b.WriteString(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('SERVEBENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"bad":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
`)
	name := filepath.Join(dir, fmt.Sprintf("%s-%d.lua", strings.NewReplacer(" ", "_", "/", "_", "(", "", ")", "", ".", "", ",", "").Replace(t.name), t.conns))
	return name, os.WriteFile(name, []byte(b.String()), 0o644)
}

// luaString quotes s as a Lua long string.
func luaString(s string) string {
	eq := ""
	for strings.Contains(s, "]"+eq+"]") {
		eq += "="
	}
	return "[" + eq + "[" + s + "]" + eq + "]"
}

// load runs wrk for d and reads its numbers; any failed request or non-2xx
// answer fails the benchmark (it would measure an error path).
func (t *target) load(wrk string, d time.Duration) (result, error) {
	threads := min(2, t.conns)
	cpu0, err := processCPU(t.pid)
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(t.conns),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Seconds()))), "--timeout", "30s", "-s", t.script, t.url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "SERVEBENCH ")
		if !ok {
			continue
		}
		var j struct {
			Requests, Duration_us, P50_us, P99_us, Bad int64
		}
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			return result{}, fmt.Errorf("wrk's numbers %q: %v", line, err)
		}
		if j.Bad > 0 || j.Requests == 0 {
			return result{}, fmt.Errorf("%d of %d requests failed or answered other than 2xx:\n%s", j.Bad, j.Requests, out)
		}
		cpu1, err := processCPU(t.pid)
		if err != nil {
			return result{}, err
		}
		wrkCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return result{RPS: float64(j.Requests) / (float64(j.Duration_us) / 1e6), P50: time.Duration(j.P50_us) * time.Microsecond,
			P99: time.Duration(j.P99_us) * time.Microsecond, Requests: j.Requests,
			ServerCPU: (cpu1 - cpu0) / time.Duration(j.Requests), WrkCPU: wrkCPU / time.Duration(j.Requests)}, nil
	}
	return result{}, fmt.Errorf("no numbers from wrk:\n%s", out)
}

// processCPU is the user and system time pid has used (/proc/PID/stat,
// in clock ticks of 10 ms: a run of seconds makes it precise enough).
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// the fields after the command name, which may hold spaces: state is
	// the 3rd field, utime the 14th, stime the 15th
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, data)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, data)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func waitFor(ok func() bool) error {
	for i := 0; i < 500; i++ {
		if ok() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("timed out")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func findLib(name string) (string, error) {
	m, _ := filepath.Glob("/usr/lib/*/" + name)
	if len(m) == 0 {
		return "", fmt.Errorf("%s not found (Debian package libpam-wrapper)", name)
	}
	return m[0], nil
}

func med(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

// pairedRatio is the median over rounds of f(a)/f(b).
func pairedRatio(a, b []result, f func(result) float64) float64 {
	r := make([]float64, 0, min(len(a), len(b)))
	for i := range cap(r) {
		r = append(r, f(a[i])/f(b[i]))
	}
	slices.Sort(r)
	return r[(len(r)-1)/2]
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
