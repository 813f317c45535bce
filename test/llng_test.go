package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// llngProvider is Debian's LemonLDAP::NG portal, its OpenID provider
// headless under plackup, with the Demo backend (users dwho, rtyler,
// msmith, each with their own name as password) and an RP pam-access
// allowed the password grant (Debian's 2.16 has no device grant).
type llngProvider struct {
	issuer string // the portal, with its trailing slash, as LLNG names itself
	log    string // plackup's access log
}

const llngPSGI = "/usr/share/lemonldap-ng/portal/htdocs/index.psgi"

// With jwt, its access tokens are JWTs signed with its key (LLNG's
// AccessTokenJWT), which the module verifies against its JWKS.
func startLLNG(t *testing.T, jwt bool) *llngProvider {
	t.Helper()
	testenv.Root(t)
	plackup, err := exec.LookPath("plackup")
	if err != nil {
		testenv.Missing(t, "plackup (libplack-perl)")
	}
	if _, err := os.Stat(llngPSGI); err != nil {
		testenv.Missing(t, "LemonLDAP::NG's portal (liblemonldap-ng-portal-perl)")
	}
	dir := t.TempDir()
	for _, d := range []string{"conf", "sessions", "psessions", "cache"} {
		must(t, os.Mkdir(filepath.Join(dir, d), 0o700))
	}
	key := filepath.Join(dir, "key.pem")
	cert := filepath.Join(dir, "cert.pem")
	for _, argv := range [][]string{{"openssl", "genrsa", "-traditional", "-out", key, "2048"},
		{"openssl", "req", "-new", "-x509", "-key", key, "-out", cert, "-days", "2", "-subj", "/CN=llng-test"}} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
	}
	keyPEM, _ := os.ReadFile(key)
	certPEM, _ := os.ReadFile(cert)
	port := freePort(t)
	p := &llngProvider{issuer: fmt.Sprintf("http://127.0.0.1:%d/", port), log: filepath.Join(dir, "plack.log")}
	storage := func(sub string) map[string]any {
		return map[string]any{"Directory": filepath.Join(dir, sub), "LockDirectory": filepath.Join(dir, sub)}
	}
	conf := map[string]any{
		"cfgNum": 1, "cfgAuthor": "test", "cfgDate": time.Now().Unix(), "cfgVersion": "2.16.1",
		"portal": p.issuer, "domain": "127.0.0.1", "cookieName": "lemonldap", "securedCookie": 0, "timeout": 72000,
		"whatToTrace": "uid", "authentication": "Demo", "userDB": "Same", "passwordDB": "Demo",
		"demoExportedVars": map[string]any{"cn": "cn", "mail": "mail", "uid": "uid"},
		"exportedVars":     map[string]any{"UA": "HTTP_USER_AGENT"},
		"globalStorage":    "Apache::Session::File", "globalStorageOptions": storage("sessions"),
		"persistentStorage": "Apache::Session::File", "persistentStorageOptions": storage("psessions"),
		"localSessionStorage": "Cache::FileCache", "localSessionStorageOptions": map[string]any{"namespace": "llngtest",
			"default_expires_in": 600, "directory_umask": "007", "cache_root": filepath.Join(dir, "cache"), "cache_depth": 3},
		"issuerDBOpenIDConnectActivation": 1, "oidcServicePrivateKeySig": string(keyPEM),
		"oidcServicePublicKeySig": string(certPEM), "oidcServiceKeyIdSig": "llng-test",
		"oidcRPMetaDataOptions": map[string]any{"pam-access": map[string]any{
			"oidcRPMetaDataOptionsClientID": opClient, "oidcRPMetaDataOptionsClientSecret": opSecret,
			"oidcRPMetaDataOptionsAllowPasswordGrant": 1, "oidcRPMetaDataOptionsAccessTokenExpiration": 3600,
			"oidcRPMetaDataOptionsIDTokenSignAlg": "RS256", "oidcRPMetaDataOptionsRedirectUris": "http://127.0.0.1/cb",
			"oidcRPMetaDataOptionsBypassConsent": 1, "oidcRPMetaDataOptionsAccessTokenJWT": map[bool]int{true: 1}[jwt]}},
		"oidcRPMetaDataExportedVars": map[string]any{"pam-access": map[string]any{"email": "mail", "name": "cn"}},
	}
	// on the package's own sample configuration (its access rules, menus,
	// headers), which the portal needs to load
	base := map[string]any{}
	sample, err := os.ReadFile("/var/lib/lemonldap-ng/conf/lmConf-1.json")
	if err != nil || json.Unmarshal(sample, &base) != nil {
		testenv.Missing(t, "LemonLDAP::NG's sample configuration /var/lib/lemonldap-ng/conf/lmConf-1.json (liblemonldap-ng-common-perl)")
	}
	delete(base, "registerDB") // its plugin needs Email::Sender
	for k, v := range conf {
		base[k] = v
	}
	data, _ := json.Marshal(base)
	must(t, os.WriteFile(filepath.Join(dir, "conf", "lmConf-1.json"), data, 0o600))
	ini := filepath.Join(dir, "lemonldap-ng.ini")
	must(t, os.WriteFile(ini, []byte(fmt.Sprintf("[all]\nlogLevel = warn\n[configuration]\ntype=File\ndirName = %s\n"+
		"[portal]\nstaticPrefix = /static\ntemplateDir = /usr/share/lemonldap-ng/portal/templates\nlanguages = en\n",
		filepath.Join(dir, "conf"))), 0o600))
	logf, err := os.Create(p.log)
	must(t, err)
	cmd := exec.Command(plackup, "-p", fmt.Sprint(port), "--host", "127.0.0.1", llngPSGI)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LLNG_DEFAULTCONFFILE="+ini)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			out, _ := os.ReadFile(p.log)
			t.Logf("plackup's log:\n%s", out)
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			resp, err := http.Get(p.issuer + ".well-known/openid-configuration")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("LemonLDAP::NG did not answer discovery within 60 s")
		}
	}
}

// token is an access token for user by the password grant.
func (p *llngProvider) token(t *testing.T, user, scope string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.issuer+"oauth2/token", strings.NewReader(url.Values{
		"grant_type": {"password"}, "username": {user}, "password": {user}, "scope": {scope}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(opClient, opSecret)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &m) != nil || m.AccessToken == "" {
		t.Fatalf("LLNG token: HTTP %d %s", resp.StatusCode, body)
	}
	return m.AccessToken
}

func (p *llngProvider) introspections(t *testing.T) int {
	data, err := os.ReadFile(p.log)
	must(t, err)
	return strings.Count(string(data), "POST /oauth2/introspect")
}

// TestLLNGTokens: LemonLDAP::NG's own access tokens as SSH passwords
// through real libpam (--tokens only): the user's token lets them in,
// another user's and one without the scope do not, and the password of a
// user no TOKEN rule names never reaches LLNG.
func TestLLNGTokens(t *testing.T) {
	p := startLLNG(t, false)
	s := newLLNGPAM(t, p)

	if ok, out := tokenLogin(t, s, "dwho", p.token(t, "dwho", "openid pam")); !ok {
		k, r := lastTokenEvent(t, s)
		t.Fatalf("dwho with his LLNG token refused: %s %s\n%s", k, r, out)
	}
	for _, c := range []struct{ name, user, token, reason string }{
		{"another user's token", "dwho", p.token(t, "rtyler", "openid pam"), `sub is "rtyler", not the user "dwho"`},
		{"a token without the scope", "rtyler", p.token(t, "rtyler", "openid"), `scope "pam" missing`},
		{"the TOKEN user's Unix password", "dwho", "dwho-unix", "not active"},
	} {
		if ok, _ := tokenLogin(t, s, c.user, c.token); ok {
			t.Errorf("%s: let in", c.name)
		}
		if k, r := lastTokenEvent(t, s); k != "token_refused" || !strings.Contains(r, c.reason) {
			t.Errorf("%s: %s %q, want %q", c.name, k, r, c.reason)
		}
	}
	before := p.introspections(t)
	if ok, out := tokenLogin(t, s, "carol", "carol-unix"); !ok {
		t.Errorf("carol refused:\n%s", out)
	}
	if n := p.introspections(t) - before; n != 0 {
		t.Errorf("carol's Unix password reached LLNG (%d introspections)", n)
	}
}

// newLLNGPAM is the PAM stack of --tokens only, with rules naming dwho
// and rtyler in a TOKEN rule, carol in an OPEN one.
func newLLNGPAM(t *testing.T, p *llngProvider) *pamStack {
	t.Helper()
	s := newPAMStack(t, "DEFAULT:CLOSE\n")
	must(t, os.WriteFile(filepath.Join(s.dir, "passdb"), []byte("carol:carol-unix:sshd\ndwho:dwho-unix:sshd\n"), 0o600))
	secret := filepath.Join(s.dir, "oidc.secret")
	must(t, os.WriteFile(secret, []byte(opSecret+"\n"), 0o600))
	must(t, os.WriteFile(s.rules, []byte(fmt.Sprintf("OIDC_ISSUER:%s\nOIDC_CLIENT_ID:%s\nOIDC_CLIENT_SECRET:%s\nOIDC_SCOPE:pam\n"+
		"OIDC_CACHE:OFF\nAUDIT_LOG:%s\nDEFAULT:CLOSE\nSSHD TOKEN USER dwho,rtyler\nSSHD OPEN USER carol\n",
		p.issuer, opClient, secret, filepath.Join(s.dir, "audit.json"))), 0o644))
	tokenStack(t, s, "only")
	return s
}

// TestLLNGJWT: LemonLDAP::NG's JWT access tokens are verified against its
// JWKS, without asking it: the user's own lets them in with no
// introspection; another user's, one with a forged signature and one
// without the scope do not.
func TestLLNGJWT(t *testing.T) {
	p := startLLNG(t, true)
	s := newLLNGPAM(t, p)
	tok := p.token(t, "dwho", "openid pam")
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("LLNG's access token is not a JWT: %.40s…", tok)
	}
	before := p.introspections(t)
	if ok, out := tokenLogin(t, s, "dwho", tok); !ok {
		k, r := lastTokenEvent(t, s)
		t.Fatalf("dwho with his JWT refused: %s %s\n%s", k, r, out)
	}
	if k, r := lastTokenEvent(t, s); k != "token_ok" || !strings.Contains(r, "jwt") {
		t.Errorf("audit: %s %q, want a local JWT check", k, r)
	}
	if n := p.introspections(t) - before; n != 0 {
		t.Errorf("a JWT was introspected %d times", n)
	}
	// the signature's first character changed: another signature
	head, sig, _ := strings.Cut(tok[strings.Index(tok, ".")+1:], ".")
	forged := tok[:strings.Index(tok, ".")+1] + head + "." + map[bool]string{true: "B", false: "A"}[sig[0] == 'A'] + sig[1:]
	for _, c := range []struct{ name, user, token, reason string }{
		{"another user's JWT", "dwho", p.token(t, "rtyler", "openid pam"), `sub is "rtyler", not the user "dwho"`},
		{"a forged signature", "dwho", forged, "JWT not valid"},
		{"a JWT without the scope", "rtyler", p.token(t, "rtyler", "openid"), `scope "pam" missing`},
	} {
		if ok, _ := tokenLogin(t, s, c.user, c.token); ok {
			t.Errorf("%s: let in", c.name)
		}
		if k, r := lastTokenEvent(t, s); k != "token_refused" || !strings.Contains(r, c.reason) {
			t.Errorf("%s: %s %q, want %q", c.name, k, r, c.reason)
		}
	}
}
