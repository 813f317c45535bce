package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestServe runs the real `pam-accesscontrol serve` with a private PAM
// directory (pam_start_confdir) whose "web" service is pam_matrix and the
// module, users and groups from nss_wrapper, and talks to it with curl as
// a beesly client would.
func TestServe(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s := serveStack(t, "DEFAULT:CLOSE\nWEB OPEN USER alice\nWEB CLOSE USER bob\n", "alice:secret:web\nbob:secret:web\n", "web")
	base := startServe(t, s, "--signing-key", hmacKey(t, s))
	curl := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		code, raw, _ := curlDo(t, method, base+path, body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Errorf("%s %s: not JSON: %q", method, path, raw)
		}
		return code, m
	}

	code, out := curl("POST", "/auth", `{"username":"alice","password":"secret"}`)
	if code != 200 || out["auth"] != true {
		t.Fatalf("alice: %d %v", code, out)
	}
	groups, _ := json.Marshal(out["groups"])
	if !strings.Contains(string(groups), `"admins"`) || !strings.Contains(string(groups), `"users"`) || strings.Contains(string(groups), `"alice"`) {
		t.Errorf("alice's groups from NSS: %s", groups)
	}
	jwt, _ := out["jwt"].(string)
	if strings.Count(jwt, ".") != 2 {
		t.Fatalf("jwt %q", jwt)
	}
	for _, tt := range []struct{ body, why string }{
		{`{"username":"bob","password":"secret"}`, "right password, the rules refuse him"},
		{`{"username":"alice","password":"wrong"}`, "wrong password"},
		{`{"username":"carol","password":"secret"}`, "not in pam_matrix's passdb"},
	} {
		if code, out := curl("POST", "/auth", tt.body); code != 401 || out["message"] != "Authentication failed" {
			t.Errorf("%s: %d %v", tt.why, code, out)
		}
	}
	if code, out := curl("POST", "/verify", `{"jwt":"`+jwt+`"}`); code != 200 || out["valid"] != true {
		t.Errorf("verify: %d %v", code, out)
	}
	code, out = curl("POST", "/renew", `{"jwt":"`+jwt+`","username":"alice"}`)
	if renewed, _ := out["jwt"].(string); code != 200 || renewed == "" || renewed == jwt {
		t.Errorf("renew: %d %v", code, out)
	}
	// the rules now close alice: renewal runs the account phase and stops
	must(t, os.WriteFile(s.rules, []byte("DEFAULT:CLOSE\nWEB CLOSE USER alice\n"), 0o644))
	if code, out := curl("POST", "/renew", `{"jwt":"`+jwt+`","username":"alice"}`); code != 401 {
		t.Errorf("renew after WEB CLOSE USER alice: %d %v", code, out)
	}
	if code, out := curl("POST", "/auth", `{"username":`); code != 400 || out["error"] == nil {
		t.Errorf("malformed JSON: %d %v", code, out)
	}
	if code, out := curl("GET", "/nope", ""); code != 404 || out["error"] != "The requested endpoint does not exist" {
		t.Errorf("unknown path: %d %v", code, out)
	}
}

// serveStack is a pamStack with rules for serve's tests: pam_matrix with
// passdb's lines ("user:password:service"), then the module, in auth and
// account of each of services.
func serveStack(t *testing.T, rules, passdb string, services ...string) *pamStack {
	t.Helper()
	s := newPAMStack(t, rules)
	matrix := testenv.Library(t, "pam_wrapper/pam_matrix.so")
	file := filepath.Join(s.dir, "passdb")
	must(t, os.WriteFile(file, []byte(passdb), 0o600))
	line := s.moduleLine()
	for _, svc := range services {
		s.service(t, svc, fmt.Sprintf("auth required %s passdb=%s\nauth required %s\naccount required %s\n", matrix, file, line, line))
	}
	return s
}

// hmacKey writes serve's test signing key (an HMAC secret) into s's
// directory and returns its path.
func hmacKey(t *testing.T, s *pamStack) string {
	t.Helper()
	key := filepath.Join(s.dir, "signing.key")
	must(t, os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef-test\n"), 0o600))
	return key
}

// startServe runs `pam-accesscontrol serve` on a free loopback port with
// s's PAM directory and the demo users from nss_wrapper, until the test
// ends; it returns the base URL once /service/health answers.
func startServe(t *testing.T, s *pamStack, args ...string) string {
	t.Helper()
	return startServeAt(t, s, "http", nil, args...)
}

// startServeAt is startServe with the URL's scheme ("https" when args
// hold --tls-cert and --tls-key) and curl's arguments for the health
// check (--cacert).
func startServeAt(t *testing.T, s *pamStack, scheme string, curlArgs []string, args ...string) string {
	t.Helper()
	return startServeOn(t, s, freePort(t), scheme, curlArgs, args...)
}

// startServeOn is startServeAt on port: for a test that names serve's URL
// in its arguments (--issuer).
func startServeOn(t *testing.T, s *pamStack, port int, scheme string, curlArgs []string, args ...string) string {
	t.Helper()
	return launchServe(t, s, port, scheme, nil, true, curlArgs, args...).base
}

// serveProc is one running `pam-accesscontrol serve`.
type serveProc struct {
	base string
	cmd  *exec.Cmd
	log  lockedBuffer
}

// launchServe runs `pam-accesscontrol serve` on 127.0.0.1:port with s's
// PAM directory, behind wrapper (a command that execs its arguments; nil
// for none), with nss_wrapper's demo users when nssWrapper is set. It is
// stopped when the test ends (its log shown if the test failed), and
// returned once /service/health answers.
func launchServe(t *testing.T, s *pamStack, port int, scheme string, wrapper []string, nssWrapper bool, curlArgs []string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{base: scheme + "://127.0.0.1:" + strconv.Itoa(port)}
	argv := append(append(append([]string(nil), wrapper...), cli, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(port),
		"--pam-confdir", s.svc, "--pam-timeout", "20s"), args...)
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = os.Environ()
	if nssWrapper {
		p.cmd.Env = append(p.cmd.Env, testenv.NSSWrapperEnv(t, "../examples/demo/passwd", "../examples/demo/group")...)
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	must(t, p.cmd.Start())
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("serve's log (%s):\n%s", p.base, p.log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _, _ := curlDo(t, "GET", p.base+"/service/health", "", curlArgs...); code == 200 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", p.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// curlDo runs curl: the status (0 when curl failed), the body and the
// response's headers. extra are more curl arguments (-u, -H).
func curlDo(t *testing.T, method, url, body string, extra ...string) (int, []byte, http.Header) {
	t.Helper()
	hdr := filepath.Join(t.TempDir(), "headers")
	args := append([]string{"-s", "-o", "-", "-D", hdr, "-w", "\n%{http_code}", "-X", method, url}, extra...)
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "--data-binary", body)
	}
	out, err := exec.Command("curl", args...).Output()
	if err != nil {
		return 0, nil, nil
	}
	i := bytes.LastIndexByte(out, '\n')
	code, _ := strconv.Atoi(string(out[i+1:]))
	h := http.Header{}
	if raw, err := os.ReadFile(hdr); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok {
				h.Add(k, strings.TrimSpace(v))
			}
		}
	}
	return code, out[:i], h
}
