package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
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

// oidcProvider is zitadel/oidc v3's example OpenID provider
// (test/oidcprovider, a module of its own; its main.go lists its flags) as
// the TOKEN tests, the enroll tests and the benchmark run it: discovery,
// the device grant and its /device pages, refresh, introspection.
type oidcProvider struct {
	issuer string
	log    string   // its stderr (-v): one line per request, across restarts
	users  string   // its users file (opUsers)
	args   []string // the flags it was started with, for restart
	cmd    *exec.Cmd
	owner  testing.TB // the test whose end stops it, restarted or not
}

// The provider's two clients (its defaults): the module's, which may also
// refresh, and another one.
const (
	opClient      = "pam-access"
	opSecret      = "pamsecret"
	opOtherClient = "other-client"
	opOtherSecret = "othersecret"
)

// opUsers are the provider's users and their passwords there. Their IDs
// are their names: the device flow keeps the name as the token's subject,
// introspection looks the subject up as an ID.
var opUsers = map[string]string{"alice": "alice-sso-pw", "bob": "bob-sso-pw", "root": "root-sso-pw"}

var (
	oidcProviderOnce sync.Once
	oidcProviderPath string
	oidcProviderErr  error
)

// oidcProviderTool is the provider's program: build/tools/oidcprovider as
// make deps-test (CI) and deps-bench build it, else (missing, or older
// than its sources) built here once from test/oidcprovider.
func oidcProviderTool(t testing.TB) string {
	t.Helper()
	oidcProviderOnce.Do(func() {
		if p, err := filepath.Abs("../build/tools/oidcprovider"); err == nil && !olderThanSources(p, "oidcprovider") {
			oidcProviderPath = p
			return
		}
		gobin, err := exec.LookPath("go")
		if err != nil {
			oidcProviderErr = err
			return
		}
		oidcProviderPath = filepath.Join(buildDir, "oidcprovider")
		build := exec.Command(gobin, "build", "-o", oidcProviderPath, ".")
		build.Dir = "oidcprovider"
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := build.CombinedOutput(); err != nil {
			oidcProviderErr = fmt.Errorf("building test/oidcprovider: %v\n%s", err, out)
		}
	})
	if oidcProviderErr != nil {
		testenv.Missing(t, "the zitadel/oidc example provider (test/oidcprovider, make oidcprovider-tool): "+oidcProviderErr.Error())
	}
	return oidcProviderPath
}

// olderThanSources: bin is missing or older than a file of dir.
func olderThanSources(bin, dir string) bool {
	st, err := os.Stat(bin)
	if err != nil {
		return true
	}
	srcs, _ := os.ReadDir(dir)
	for _, e := range srcs {
		if info, err := e.Info(); err == nil && info.ModTime().After(st.ModTime()) {
			return true
		}
	}
	return false
}

// startProvider runs the provider on a loopback port with opUsers and
// args (-lifetime 8s, -code-lifetime 2s, -slow-polls 1…), and stops it
// when t ends.
func startProvider(t testing.TB, args ...string) *oidcProvider {
	t.Helper()
	dir := t.TempDir()
	p := &oidcProvider{log: filepath.Join(dir, "op.log"), users: filepath.Join(dir, "users.json"), args: args, owner: t}
	users := map[string]any{}
	for u, pw := range opUsers {
		users[u] = map[string]any{"ID": u, "Username": u, "Password": pw, "FirstName": u, "LastName": "Test",
			"Email": u + "@example.com", "EmailVerified": true, "PreferredLanguage": "en"}
	}
	data, _ := json.Marshal(users)
	must(t, os.WriteFile(p.users, data, 0o600))
	p.start(t, "127.0.0.1:0")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("provider's log:\n%s", p.logText())
		}
	})
	return p
}

func (p *oidcProvider) start(t testing.TB, addr string) {
	t.Helper()
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	must(t, err)
	cmd := exec.Command(oidcProviderTool(t), append([]string{"-v", "-listen", addr, "-users", p.users}, p.args...)...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	p.cmd = cmd
	p.owner.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGCONT) // a test may have stopped it
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
		io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		issuer, ok := strings.CutPrefix(strings.TrimSpace(l), "issuer ")
		if !ok {
			t.Fatalf("the provider said %q, not its issuer\n%s", l, p.logText())
		}
		p.issuer = issuer
	case <-time.After(30 * time.Second):
		t.Fatalf("the provider did not start within 30 s\n%s", p.logText())
	}
}

// stop kills the provider; restart brings it back on the same address,
// every token it issued gone: revoked.
func (p *oidcProvider) stop() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

func (p *oidcProvider) restart(t testing.TB) {
	p.start(t, strings.TrimPrefix(p.issuer, "http://"))
}

// logText is what the provider logged so far.
func (p *oidcProvider) logText() string {
	data, _ := os.ReadFile(p.log)
	return string(data)
}

// requests are the times the provider finished each request to path.
func (p *oidcProvider) requests(path string) []time.Time {
	var out []time.Time
	for _, l := range strings.Split(p.logText(), "\n") {
		if !strings.Contains(l, `msg="http request"`) || !strings.Contains(l, " path="+path+" ") {
			continue
		}
		_, rest, _ := strings.Cut(l, "time=")
		ts, _, _ := strings.Cut(rest, " ")
		if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			out = append(out, at)
		}
	}
	return out
}

// introspections counts the introspection requests the provider served.
func (p *oidcProvider) introspections(t testing.TB) int {
	t.Helper()
	return len(p.requests("/oauth/introspect"))
}

// approve plays the user at the provider's verification page: logs in as
// user (opUsers' password) for the user code, and allows (or denies) the
// device.
func (p *oidcProvider) approve(t testing.TB, userCode, user string, allow bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.PostForm(p.issuer+"/device/login", url.Values{"user_code": {userCode}, "username": {user}, "password": {opUsers[user]}})
	must(t, err)
	body := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "allowed") {
		t.Fatalf("the provider's login page: HTTP %d\n%s", resp.StatusCode, body)
	}
	action := "denied"
	if allow {
		action = "allowed"
	}
	resp, err = c.PostForm(p.issuer+"/device/confirm", url.Values{"action": {action}})
	must(t, err)
	if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "Device authorization "+action) {
		t.Fatalf("the provider's confirm page: HTTP %d\n%s", resp.StatusCode, body)
	}
}

// post sends form to the provider's path as client (HTTP basic) and
// decodes its JSON answer.
func (p *oidcProvider) post(t testing.TB, path, client, secret string, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, p.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client, secret)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	must(t, err)
	body := readBody(t, resp)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: HTTP %d %s", path, resp.StatusCode, body)
	}
	return m
}

// token runs the device authorization grant as client for user, the
// user approving it, and returns the access token.
func (p *oidcProvider) token(t testing.TB, client, secret, user, scope string) string {
	t.Helper()
	dev := p.post(t, "/device_authorization", client, secret, url.Values{"scope": {scope}})
	dc, _ := dev["device_code"].(string)
	uc, _ := dev["user_code"].(string)
	if dc == "" || uc == "" {
		t.Fatalf("device authorization: %v", dev)
	}
	p.approve(t, uc, user, true)
	tok := p.post(t, "/oauth/token", client, secret, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc}})
	at, _ := tok["access_token"].(string)
	if at == "" {
		t.Fatalf("token: %v", tok)
	}
	return at
}

// introspect asks the provider about token as client (RFC 7662).
func (p *oidcProvider) introspect(t testing.TB, client, secret, token string) map[string]any {
	t.Helper()
	return p.post(t, "/oauth/introspect", client, secret, url.Values{"token": {token}})
}

// oidcSettings are the rules file's OIDC_* lines for p, with the client
// secret in a root-only file in dir.
func (p *oidcProvider) oidcSettings(t testing.TB, dir string) string {
	t.Helper()
	secret := filepath.Join(dir, "oidc.secret")
	must(t, os.WriteFile(secret, []byte(opSecret+"\n"), 0o600))
	return fmt.Sprintf("OIDC_ISSUER:%s\nOIDC_CLIENT_ID:%s\nOIDC_CLIENT_SECRET:%s\nOIDC_SCOPE:pam\nOIDC_TIMEOUT:2\n", p.issuer, opClient, secret)
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(data)
}
