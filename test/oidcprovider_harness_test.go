package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// zitadelOP is zitadel/oidc v3's example OpenID provider (test/oidcprovider,
// a module of its own) running for one test.
type zitadelOP struct {
	Issuer string
	cmd    *exec.Cmd
	log    lockedBuffer // its stderr: with -v, one line per request
}

// startZitadelOP builds (once) and starts the provider with args
// (test/oidcprovider/main.go lists them), and stops it when t ends.
func startZitadelOP(t *testing.T, args ...string) *zitadelOP {
	t.Helper()
	bin := buildOnce(t, "oidcprovider", "go", "-C", "oidcprovider", "build", "-o", "OUT", ".")
	op := &zitadelOP{}
	cmd := exec.Command(bin, append([]string{"-v"}, args...)...)
	cmd.Stderr = &op.log
	out, err := cmd.StdoutPipe()
	mustTB(t, err)
	mustTB(t, cmd.Start())
	op.cmd = cmd
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("provider's log:\n%s", op.Log())
		}
	})
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		issuer, ok := strings.CutPrefix(l, "issuer ")
		if !ok {
			t.Fatalf("the provider said %q, not its issuer\n%s", l, op.Log())
		}
		op.Issuer = issuer
	case <-time.After(30 * time.Second):
		t.Fatalf("the provider did not start within 30 s\n%s", op.Log())
	}
	return op
}

// Log is what the provider logged so far.
func (op *zitadelOP) Log() string { return op.log.String() }

// Approve plays the administrator at the provider's verification page:
// logs in as user with password, for the user code, and allows (or
// denies) the device.
func (op *zitadelOP) Approve(t *testing.T, userCode, user, password string, allow bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.PostForm(op.Issuer+"/device/login", url.Values{"user_code": {userCode}, "username": {user}, "password": {password}})
	mustTB(t, err)
	body := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "allowed") {
		t.Fatalf("the provider's login page: HTTP %d\n%s", resp.StatusCode, body)
	}
	action := "denied"
	if allow {
		action = "allowed"
	}
	resp, err = c.PostForm(op.Issuer+"/device/confirm", url.Values{"action": {action}})
	mustTB(t, err)
	if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "Device authorization "+action) {
		t.Fatalf("the provider's confirm page: HTTP %d\n%s", resp.StatusCode, body)
	}
}

// Introspect asks the provider about token as client id (RFC 7662).
func (op *zitadelOP) Introspect(t *testing.T, id, secret, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, op.Issuer+"/oauth/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	mustTB(t, err)
	body := readBody(t, resp)
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("introspection: HTTP %d %s", resp.StatusCode, body)
	}
	return out
}

// Requests are the times the provider finished each request to path.
func (op *zitadelOP) Requests(path string) []time.Time {
	var out []time.Time
	for _, l := range strings.Split(op.Log(), "\n") {
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

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(resp.Body)
	mustTB(t, err)
	return b.String()
}
