package test

import (
	"bufio"
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

// oidcProvider is zitadel/oidc v3's example OpenID provider (test/oidcop),
// a real one: device authorization, introspection, revocation, discovery.
type oidcProvider struct {
	issuer   string
	log      string // its request log: one line per request
	cmd      *exec.Cmd
	users    string
	lifetime time.Duration
	owner    testing.TB // the test whose end stops it, restarted or not
}

// The provider's users (ID = Username: the example looks users up by ID
// when introspecting, by name when logging in) and its two clients.
const (
	opClient      = "pam-access"
	opSecret      = "pamsecret"
	opOtherClient = "other-client"
	opOtherSecret = "othersecret"
)

var opUsers = map[string]string{"alice": "alice-sso-pw", "bob": "bob-sso-pw", "root": "root-sso-pw"}

var (
	oidcopOnce sync.Once
	oidcopPath string
	oidcopErr  error
)

// oidcop is the provider's program: build/tools/oidcop as make deps-test
// builds it, else built here from test/oidcop (its own module).
func oidcop(t testing.TB) string {
	t.Helper()
	oidcopOnce.Do(func() {
		if p, err := filepath.Abs("../build/tools/oidcop"); err == nil {
			if _, err := os.Stat(p); err == nil {
				oidcopPath = p
				return
			}
		}
		gobin, err := exec.LookPath("go")
		if err != nil {
			oidcopErr = err
			return
		}
		oidcopPath = filepath.Join(buildDir, "oidcop")
		build := exec.Command(gobin, "build", "-o", oidcopPath, ".")
		build.Dir = "oidcop"
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := build.CombinedOutput(); err != nil {
			oidcopErr = fmt.Errorf("building test/oidcop: %v\n%s", err, out)
		}
	})
	if oidcopErr != nil {
		testenv.Missing(t, "the zitadel/oidc example provider (test/oidcop, make oidcop-tool): "+oidcopErr.Error())
	}
	return oidcopPath
}

// startProvider runs the provider on a loopback port, its access tokens
// living lifetime.
func startProvider(t testing.TB, lifetime time.Duration) *oidcProvider {
	t.Helper()
	dir := t.TempDir()
	p := &oidcProvider{log: filepath.Join(dir, "op.log"), users: filepath.Join(dir, "users.json"), lifetime: lifetime, owner: t}
	users := map[string]any{}
	for u, pw := range opUsers {
		users[u] = map[string]any{"ID": u, "Username": u, "Password": pw, "FirstName": u, "LastName": "Test",
			"Email": u + "@example.com", "EmailVerified": true, "PreferredLanguage": "en"}
	}
	data, _ := json.Marshal(users)
	mustTB(t, os.WriteFile(p.users, data, 0o600))
	p.start(t, "127.0.0.1:0")
	return p
}

func (p *oidcProvider) start(t testing.TB, addr string) {
	t.Helper()
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	mustTB(t, err)
	cmd := exec.Command(oidcop(t), "-addr", addr, "-users", p.users, "-lifetime", p.lifetime.String())
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	mustTB(t, err)
	mustTB(t, cmd.Start())
	p.cmd = cmd
	p.owner.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGCONT)
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
		issuer, ok := strings.CutPrefix(strings.TrimSpace(l), "ISSUER ")
		if !ok {
			t.Fatalf("the provider said %q", l)
		}
		p.issuer = issuer
	case <-time.After(20 * time.Second):
		t.Fatal("the provider did not start")
	}
}

// stop kills the provider; restart brings it back on the same address,
// every token it issued gone: revoked. (The example provider revokes no
// device grant's token at /revoke: it records no client for them.)
func (p *oidcProvider) stop() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

func (p *oidcProvider) restart(t testing.TB) {
	p.start(t, strings.TrimPrefix(p.issuer, "http://"))
}

// introspections counts the introspection requests the provider served.
func (p *oidcProvider) introspections(t testing.TB) int {
	t.Helper()
	data, err := os.ReadFile(p.log)
	mustTB(t, err)
	return strings.Count(string(data), "path=/oauth/introspect")
}

// token runs the device authorization grant as client for user, the
// user approving it, and returns the access token.
func (p *oidcProvider) token(t testing.TB, client, secret, user, scope string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	post := func(path string, form url.Values, auth bool) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth {
			req.SetBasicAuth(client, secret)
		}
		resp, err := hc.Do(req)
		mustTB(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !auth {
			if resp.StatusCode != 200 {
				t.Fatalf("%s: HTTP %d: %s", path, resp.StatusCode, body)
			}
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %s", path, body)
		}
		return m
	}
	dev := post("/device_authorization", url.Values{"scope": {scope}}, true)
	dc, _ := dev["device_code"].(string)
	uc, _ := dev["user_code"].(string)
	if dc == "" || uc == "" {
		t.Fatalf("device authorization: %v", dev)
	}
	post("/device/login", url.Values{"user_code": {uc}, "username": {user}, "password": {opUsers[user]}}, false)
	post("/device/confirm", url.Values{"action": {"allowed"}}, false)
	tok := post("/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc}}, true)
	at, _ := tok["access_token"].(string)
	if at == "" {
		t.Fatalf("token: %v", tok)
	}
	return at
}

// oidcSettings are the rules file's OIDC_* lines for p, with the client
// secret in a root-only file in dir.
func (p *oidcProvider) oidcSettings(t testing.TB, dir string) string {
	t.Helper()
	secret := filepath.Join(dir, "oidc.secret")
	mustTB(t, os.WriteFile(secret, []byte(opSecret+"\n"), 0o600))
	return fmt.Sprintf("OIDC_ISSUER:%s\nOIDC_CLIENT_ID:%s\nOIDC_CLIENT_SECRET:%s\nOIDC_SCOPE:pam\nOIDC_TIMEOUT:2\n", p.issuer, opClient, secret)
}
