package test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// opaTool is the opa binary the Makefile builds from OPA's Go module
// (make opa-tool) into build/tools.
func opaTool(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../build/tools/opa")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, p+" (make opa-tool builds it)")
	}
	return p
}

// opaServer is a real `opa run --server` on 127.0.0.1 (or a unix socket).
type opaServer struct {
	URL  string // http://127.0.0.1:PORT or unix:/path
	addr string // for the test's own requests
	cmd  *exec.Cmd
	out  *lockedBuffer
	// cred, when set, runs OPA as that user: a local user's OPA
	cred *syscall.Credential
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startOPA runs OPA with args (policy files, --v0-compatible,
// --config-file…) and waits until /health (with health, e.g. "?bundles")
// says it is ready.
func startOPA(t testing.TB, health string, args ...string) *opaServer {
	t.Helper()
	return startOPAAs(t, nil, health, args...)
}

// startOPAAs is startOPA, OPA run as cred's user when cred is set.
func startOPAAs(t testing.TB, cred *syscall.Credential, health string, args ...string) *opaServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	o := &opaServer{addr: fmt.Sprintf("127.0.0.1:%d", port), out: &lockedBuffer{}, cred: cred}
	o.URL = "http://" + o.addr
	o.start(t, health, append([]string{"--addr", o.addr}, args...)...)
	return o
}

func (o *opaServer) start(t testing.TB, health string, args ...string) {
	t.Helper()
	o.cmd = exec.Command(opaTool(t), append([]string{"run", "--server", "--log-level", "error"}, args...)...)
	o.cmd.Stdout, o.cmd.Stderr = o.out, o.out
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: o.cred}
	must(t, o.cmd.Start())
	cmd := o.cmd
	t.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGCONT)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("opa's output:\n%s", o.out.String())
		}
	})
	client := o.httpClient()
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := client.Get("http://opa/health" + health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("opa did not become healthy (%s): %v\n%s", health, err, o.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// httpClient reaches this OPA, over TCP or its unix socket.
func (o *opaServer) httpClient() *http.Client {
	tr := &http.Transport{}
	if sock, ok := strings.CutPrefix(o.URL, "unix:"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (netConn, error) {
			return dialUnix(ctx, sock)
		}
	} else {
		addr := o.addr
		tr.DialContext = func(ctx context.Context, _, _ string) (netConn, error) {
			return dialTCP(ctx, addr)
		}
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// putData writes a document into OPA's data API (PUT /v1/data/PATH).
func (o *opaServer) putData(t testing.TB, path, doc string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://opa/v1/data/"+path, strings.NewReader(doc))
	must(t, err)
	resp, err := o.httpClient().Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("PUT /v1/data/%s: HTTP %d", path, resp.StatusCode)
	}
}

// stop and cont pause and resume OPA: a stopped OPA accepts connections
// (the kernel does) and never answers, the worst way to hang.
func (o *opaServer) stop(t *testing.T) { must(t, syscall.Kill(o.cmd.Process.Pid, syscall.SIGSTOP)) }
func (o *opaServer) cont(t *testing.T) { must(t, syscall.Kill(o.cmd.Process.Pid, syscall.SIGCONT)) }

// kill ends OPA: nobody listens any more.
func (o *opaServer) kill(t *testing.T) {
	syscall.Kill(o.cmd.Process.Pid, syscall.SIGCONT)
	syscall.Kill(-o.cmd.Process.Pid, syscall.SIGKILL)
	o.cmd.Wait()
}

// opaEtc is a private /etc for the commands of an OPA test (pamtester,
// sshd, and the helper they start): users ops and dev known to NSS, and
// pam_authz's /etc/host_identity.json. hostID "" leaves the file out.
type opaEtc struct {
	dir    string
	prefix []string
}

func newOPAEtc(t testing.TB, hostID string) *opaEtc {
	t.Helper()
	testenv.Root(t)
	e := &opaEtc{dir: t.TempDir()}
	etc := filepath.Join(e.dir, "etc")
	for _, d := range []string{"etc", "work", "log", "home"} {
		must(t, os.MkdirAll(filepath.Join(e.dir, d), 0o755))
	}
	passwd, err := os.ReadFile("/etc/passwd")
	must(t, err)
	group, err := os.ReadFile("/etc/group")
	must(t, err)
	home := filepath.Join(e.dir, "home")
	must(t, os.WriteFile(filepath.Join(etc, "passwd"), append(passwd,
		[]byte(fmt.Sprintf("ops:x:4711:4711:ops:%[1]s:/bin/sh\ndev:x:4712:4712:dev:%[1]s:/bin/sh\n", home))...), 0o644))
	must(t, os.WriteFile(filepath.Join(etc, "group"), append(group, []byte("ops:x:4711:\ndev:x:4712:\nwheel2:x:4713:ops\n")...), 0o644))
	e.setHostID(t, hostID)
	e.prefix = privateEtc(t, e.dir) // /etc overlaid, /var/log private
	return e
}

// setHostID writes /etc/host_identity.json as pam_authz's README has it;
// the next command sees it (each mounts /etc anew).
func (e *opaEtc) setHostID(t testing.TB, hostID string) {
	path := filepath.Join(e.dir, "etc", "host_identity.json")
	if hostID == "" {
		os.Remove(path)
		return
	}
	must(t, os.WriteFile(path, []byte(fmt.Sprintf("{\n    \"host_id\": %q\n}\n", hostID)), 0o644))
}

// pamtester runs one PAM transaction (pamtester, pam_wrapper) with the
// stack's services in the private /etc, typing stdin at the prompts; it
// returns the output, the exit status and how long it took.
func (e *opaEtc) pamtester(t testing.TB, s *pamStack, stdin string, items []string, user string, ops ...string) (string, int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	out, code := compatPamtester(ctx, t, s, e.prefix, stdin, items, "sshd", user, ops...)
	return out, code, time.Since(start)
}

// newOPAStack is newPAMStack for benchmarks too: the module in auth of
// service sshd, with rules.
func newOPAStack(t testing.TB, rules string) *pamStack {
	t.Helper()
	dir := t.TempDir()
	s := &pamStack{dir: dir, svc: filepath.Join(dir, "svc"), rules: filepath.Join(dir, "rules.conf")}
	must(t, os.Mkdir(s.svc, 0o755))
	must(t, os.WriteFile(s.rules, []byte(rules), 0o644))
	line := s.moduleLine()
	must(t, os.WriteFile(filepath.Join(s.svc, "sshd"), []byte(fmt.Sprintf("auth required %[1]s\naccount required %[1]s\n", line)), 0o644))
	return s
}

type netConn = net.Conn

func dialUnix(ctx context.Context, sock string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", sock)
}

func dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}
