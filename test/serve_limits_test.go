package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// webStack is TestServe's PAM directory: a "web" and a "kubernetes"
// service of pam_matrix and the module, alice's password "secret", and
// the module's config with an AUDIT_LOG, which the service reads too
// (--conf), so the module's and the service's events land in one file.
func webStack(t *testing.T) (s *pamStack, auditLog string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s = serveStack(t, "", "alice:secret:web\nalice:secret:kubernetes\n", "web", "kubernetes")
	auditLog = filepath.Join(s.dir, "audit.jsonl")
	must(t, os.WriteFile(s.rules, []byte("DEFAULT:CLOSE\nAUDIT_LOG:"+auditLog+"\nWEB OPEN USER alice\nKUBERNETES OPEN USER alice\n"), 0o644))
	return s, auditLog
}

// startServeProc is startServe that keeps the process and its log, with
// s's rules, a spool directory and the test's HMAC key.
func startServeProc(t *testing.T, s *pamStack, args ...string) *serveProc {
	t.Helper()
	return launchServe(t, s, freePort(t), "http", nil, true, nil, append([]string{"--conf", s.rules,
		"--spool-dir", filepath.Join(s.dir, "spool"), "--signing-key", hmacKey(t, s)}, args...)...)
}

// auditEvents reads the AUDIT_LOG: the module's and the service's
// events, as generic maps.
func auditEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit log line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func countEvents(evs []map[string]any, kind string) int {
	n := 0
	for _, e := range evs {
		if e["event"] == kind {
			n++
		}
	}
	return n
}

// waitAudit waits until the service's events number n (they are written
// from a queue).
func waitAudit(t *testing.T, path string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs := auditEvents(t, path)
		if countEvents(evs, "serve_decision") >= n || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func authBody(user, password string) string {
	return fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)
}

// TestServeRateLimits: the real service, limits in memory. Three wrong
// passwords block alice: the right one then gets 429 with Retry-After and
// never reaches PAM (the module writes no decision for it). /metrics,
// on its own listener only, counts it all; the audit log has one event
// per decision and no password; memory is locked.
func TestServeRateLimits(t *testing.T) {
	s, auditLog := webStack(t)
	metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
	statsd, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	defer statsd.Close()
	p := startServeProc(t, s, "--rate-failures", "2", "--rate-backoff", "1m", "--rate-max-backoff", "10m", "--metrics-listen", metrics,
		"--statsd", statsd.LocalAddr().String())

	if code, _, _ := curlDo(t, "POST", p.base+"/auth", authBody("alice", "secret")); code != 200 {
		t.Fatalf("alice: %d", code)
	}
	const wrong = "Wr0ng-never-logged"
	for i := 0; i < 3; i++ {
		if code, body, _ := curlDo(t, "POST", p.base+"/auth", authBody("alice", wrong)); code != 401 {
			t.Fatalf("wrong password %d: %d %s", i, code, body)
		}
	}
	evs := waitAudit(t, auditLog, 4)
	moduleBefore := countEvents(evs, "decision")
	if moduleBefore == 0 {
		t.Fatalf("the module wrote no decision events to %s", auditLog)
	}
	code, body, h := curlDo(t, "POST", p.base+"/auth", authBody("alice", "secret"))
	var e map[string]any
	json.Unmarshal(body, &e)
	if msg, _ := e["error"].(string); code != 429 || !strings.HasPrefix(msg, "Rate limit exceeded") || h.Get("Retry-After") == "" {
		t.Errorf("right password after 3 failures: %d %s %v", code, body, h)
	}
	if ra, _ := strconv.Atoi(h.Get("Retry-After")); ra < 50 || ra > 60 {
		t.Errorf("Retry-After %q, want about a minute", h.Get("Retry-After"))
	}
	// /token (Basic) shares alice's budget
	if code, body, _ := curlDo(t, "GET", p.base+"/token", "", "-u", "alice:secret"); code != 429 {
		t.Errorf("/token for a blocked alice: %d %s", code, body)
	}
	evs = waitAudit(t, auditLog, 6)
	if n := countEvents(evs, "decision"); n != moduleBefore {
		t.Errorf("PAM ran for rate-limited requests: the module's decisions went from %d to %d", moduleBefore, n)
	}

	// the service's decisions: one each, who, from where, what came of it
	var got []string
	for _, e := range evs {
		if e["event"] == "serve_decision" {
			got = append(got, fmt.Sprintf("%v %v %v %v %v", e["phase"], e["service"], e["user"], e["rhost"], e["verdict"]))
		}
	}
	want := []string{
		"/auth web alice 127.0.0.1 ok",
		"/auth web alice 127.0.0.1 refused", "/auth web alice 127.0.0.1 refused", "/auth web alice 127.0.0.1 refused",
		"/auth web alice 127.0.0.1 rate_limited", "/token kubernetes alice 127.0.0.1 rate_limited",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the service's audit events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	raw, _ := os.ReadFile(auditLog)
	if bytes.Contains(raw, []byte(wrong)) || bytes.Contains(raw, []byte(`"secret"`)) {
		t.Errorf("the audit log holds a password")
	}

	// /metrics: on its own listener, never on the credential one
	if code, _, _ := curlDo(t, "GET", p.base+"/metrics", ""); code != 404 {
		t.Errorf("/metrics on the API listener: %d", code)
	}
	code, body, _ = curlDo(t, "GET", "http://"+metrics+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`pamac_serve_requests_total{code="429",endpoint="/auth"} 1`,
		`pamac_serve_requests_total{code="401",endpoint="/auth"} 3`,
		`pamac_serve_decisions_total{endpoint="/auth",outcome="refused"} 3`,
		`pamac_serve_decisions_total{endpoint="/auth",outcome="ok"} 1`,
		`pamac_serve_decisions_total{endpoint="/token",outcome="rate_limited"} 1`,
		`pamac_serve_rate_limited_total{endpoint="/auth",key="user"} 1`,
		`pamac_serve_pam_seconds_count{call="authenticate",service="web"} 4`,
	} {
		if !bytes.Contains(body, []byte(want+"\n")) {
			t.Errorf("/metrics has no %s", want)
		}
	}

	// statsd: beesly's names
	var datagrams []string
	buf := make([]byte, 1500)
	for {
		statsd.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := statsd.ReadFrom(buf)
		if err != nil {
			break
		}
		datagrams = append(datagrams, string(buf[:n]))
	}
	all := strings.Join(datagrams, "\n")
	for want, n := range map[string]int{"beesly.auth_success:1|c": 1, "beesly.auth_failed:1|c": 3, "beesly.jwt_generated:1|c": 1,
		"beesly.rate_limited:1|c": 2, "|ms": 4} {
		if got := strings.Count(all, want); got != n {
			t.Errorf("statsd: %d of %q, want %d, in %q", got, want, n, datagrams)
		}
	}

	// mlockall, as pam_hook: the process's memory is locked
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	must(t, err)
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmLck:"); ok {
			if kb, _ := strconv.Atoi(strings.Fields(v)[0]); kb == 0 {
				t.Errorf("no memory locked: %s", l)
			}
		}
	}
}

// startRedis runs a private redis-server on a unix socket in a temporary
// directory (never the machine's), until the test ends or stop is called.
func startRedis(t *testing.T) (url string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--dir", dir, "--save", "", "--appendonly", "no")
	must(t, cmd.Start())
	var once sync.Once
	stop = func() { once.Do(func() { cmd.Process.Kill(); cmd.Wait() }) }
	t.Cleanup(stop)
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			return "unix://" + sock, stop
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not come up")
	return "", nil
}

// TestServeRateLimitsRedis: two service instances share one budget in a
// real redis-server: failures on A block the user on B. When Redis goes
// away, both refuse credential requests with 503 (fail closed) and each
// says so in one log line.
func TestServeRateLimitsRedis(t *testing.T) {
	s, _ := webStack(t)
	url, stopRedis := startRedis(t)
	args := []string{"--rate-store", url, "--rate-failures", "2", "--rate-backoff", "1m", "--disable-mlock"}
	a := startServeProc(t, s, args...)
	b := startServeProc(t, s, args...)

	for i := 0; i < 3; i++ {
		if code, body, _ := curlDo(t, "POST", a.base+"/auth", authBody("alice", "wrong")); code != 401 {
			t.Fatalf("A, wrong password %d: %d %s", i, code, body)
		}
	}
	code, body, h := curlDo(t, "POST", b.base+"/auth", authBody("alice", "secret"))
	if code != 429 || !bytes.Contains(body, []byte("for this user")) || h.Get("Retry-After") == "" {
		t.Errorf("B, alice after 3 failures on A: %d %s %v", code, body, h)
	}
	if code, body, _ := curlDo(t, "GET", b.base+"/token", "", "-u", "alice:secret"); code != 429 {
		t.Errorf("B, /token for alice: %d %s", code, body)
	}

	stopRedis()
	for _, p := range []*serveProc{a, b} {
		for i := 0; i < 3; i++ {
			code, body, h := curlDo(t, "POST", p.base+"/auth", authBody("carol", "secret"))
			if code != 503 || !bytes.Contains(body, []byte("rate limit store is unavailable")) || h.Get("Retry-After") == "" {
				t.Errorf("%s without Redis: %d %s", p.base, code, body)
			}
		}
		if n := strings.Count(p.log.String(), "rate limits: the rate limit store is unavailable"); n != 1 {
			t.Errorf("%s logged the outage %d times, want once:\n%s", p.base, n, p.log.String())
		}
	}
}
