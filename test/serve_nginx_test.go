package test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestServeNginx runs README.md's nginx set-up for a web application (its
// ```nginx block, with this test's addresses) in a real nginx in front of
// the real serve: the login form's POST reaches /auth and gives a token,
// auth_request lets a request with the token's cookie through to the
// application and sends one without a good token to the login page.
func TestServeNginx(t *testing.T) {
	for _, tool := range []string{"curl", "nginx"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool+" (nginx-light)")
		}
	}
	s := serveStack(t, "DEFAULT:CLOSE\nWEB OPEN USER alice\n", "alice:secret:web\nbob:secret:web\n", "web")
	serve := startServe(t, s, "--signing-key", hmacKey(t, s), "--trusted-proxy", "127.0.0.1/32")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "the application: %s", r.URL.Path)
	}))
	defer app.Close()

	// README's block, with this test's addresses
	readme := string(mustRead(t, "../README.md"))
	_, rest, ok := strings.Cut(readme, "### A web application behind nginx")
	_, block, ok2 := strings.Cut(rest, "```nginx\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```nginx block under \"### A web application behind nginx\"")
	}
	port := strconv.Itoa(freePort(t))
	base := "http://127.0.0.1:" + port
	for old, new := range map[string]string{"listen 443 ssl;": "listen 127.0.0.1:" + port + ";",
		"http://127.0.0.1:8443": serve, "http://127.0.0.1:8080": app.URL} {
		if !strings.Contains(block, old) {
			t.Fatalf("README's nginx block has no %q:\n%s", old, block)
		}
		block = strings.ReplaceAll(block, old, new)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	var temps string
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		temps += fmt.Sprintf("    %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf("daemon off;\nmaster_process off;\npid %s;\nerror_log %s info;\nevents { worker_connections 64; }\n"+
		"http {\n    access_log off;\n%s%s}\n", filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "error.log"), temps, block)), 0o644))
	cmd := exec.Command("nginx", "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			errs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx:\n%s%s\nconf:\n%s", log.String(), errs, mustRead(t, conf))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _, _ := curlDo(t, "GET", base+"/login/", "", "--max-time", "5"); code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not come up: %s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	code, raw, _ := curlDo(t, "POST", base+"/login/auth", `{"username":"alice","password":"secret"}`, "--max-time", "60")
	var login struct{ JWT string }
	if json.Unmarshal(raw, &login); code != 200 || login.JWT == "" {
		t.Fatalf("alice's login through nginx: %d %s", code, raw)
	}
	if code, raw, _ := curlDo(t, "POST", base+"/login/auth", `{"username":"bob","password":"secret"}`, "--max-time", "60"); code != 401 {
		t.Errorf("bob (the rules refuse him) through nginx: %d %s", code, raw)
	}
	if code, raw, _ := curlDo(t, "POST", base+"/login/renew", `{"jwt":"`+login.JWT+`","username":"alice"}`, "--max-time", "60"); code != 200 {
		t.Errorf("renewal through nginx: %d %s", code, raw)
	}
	forged := strings.Split(login.JWT, ".")
	forged[2] = strings.Repeat("A", len(forged[2]))
	for _, tt := range []struct {
		cookie, why string
		code        int
		location    string
	}{
		{login.JWT, "alice's token", 200, ""},
		{strings.Join(forged, "."), "a forged signature", 302, "/login/"},
		{"", "no token", 500, ""},
		{`x","jwt":"y`, "a cookie that tries to change the JSON", 500, ""},
	} {
		var extra []string
		if tt.cookie != "" {
			extra = []string{"-H", "Cookie: pamac_jwt=" + tt.cookie}
		}
		code, raw, h := curlDo(t, "GET", base+"/reports/today", "", append(extra, "--max-time", "60")...)
		if code != tt.code || tt.code == 200 && string(raw) != "the application: /reports/today" ||
			tt.location != "" && !strings.HasSuffix(h.Get("Location"), tt.location) {
			t.Errorf("%s: %d %q %v", tt.why, code, raw, h)
		}
	}
}
