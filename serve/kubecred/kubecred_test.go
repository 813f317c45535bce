package kubecred

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseExecInfo(t *testing.T) {
	for _, tt := range []struct {
		env         string
		version     string
		interactive bool
		err         string
	}{
		{"", V1, true, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`, V1, true, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`, V1, false, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"cluster":{"server":"x"},"interactive":true}}`, V1beta1, true, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{}}`, V1beta1, false, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1alpha1","kind":"ExecCredential"}`, "", false, "v1alpha1"},
		{`{"apiVersion":"client.authentication.k8s.io/v1","kind":"Pod"}`, "", false, "not an ExecCredential"},
		{`{"apiVersion":`, "", false, "not JSON"},
	} {
		r, err := parseExecInfo(tt.env)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want an error with %q", tt.env, err, tt.err)
			}
			continue
		}
		if err != nil || r.version != tt.version || r.interactive != tt.interactive {
			t.Errorf("%s: %+v %v", tt.env, r, err)
		}
	}
}

func TestServerURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://k8s-auth.example.com:8443", "https://k8s-auth.example.com:8443"},
		{"https://k8s-auth.example.com:8443/", "https://k8s-auth.example.com:8443"},
		{"https://example.com/pam/", "https://example.com/pam"},
		{"http://127.0.0.1:8443", "http://127.0.0.1:8443"},
		{"http://[::1]:8443", "http://[::1]:8443"},
		{"http://localhost:8443", "http://localhost:8443"},
		{"http://example.com:8443", ""},
		{"http://10.0.0.1:8443", ""},
		{"ftp://example.com", ""},
		{"https://alice:pw@example.com", ""},
		{"https://example.com/?x=1", ""},
		{"https://example.com/#x", ""},
		{"example.com:8443", ""},
		{"", ""},
	} {
		got, err := serverURL(tt.in)
		if (err == nil) != (tt.want != "") || got != tt.want {
			t.Errorf("%q: %q %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

// jwt is a token with the claims given (unsigned: the plugin never checks
// the signature).
func jwt(claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims)) + ".c2ln"
}

func TestExpiry(t *testing.T) {
	for _, tt := range []struct {
		token string
		want  int64
	}{
		{jwt(`{"exp":1796614037,"sub":"alice"}`), 1796614037},
		{jwt(`{"exp":1796614037.75}`), 1796614037},
		{jwt(`{"sub":"alice"}`), 0},
		{jwt(`{"exp":"tomorrow"}`), 0},
		{jwt(`{"exp":-5}`), 0},
		{jwt(`{"exp":1e300}`), 0},
		{"opaque-token", 0},
		{"a.!!!.c", 0},
	} {
		got, err := expiry(tt.token)
		if (err == nil) != (tt.want != 0) || tt.want != 0 && got.Unix() != tt.want {
			t.Errorf("%s: %v %v, want %d", tt.token, got, err, tt.want)
		}
	}
}

// fakeTerminal answers from a list and keeps what it handed out, to see
// it zeroed.
type fakeTerminal struct {
	answers [][]byte
	asked   []string
	given   [][]byte
}

func (f *fakeTerminal) Ask(prompt string, echo bool) ([]byte, error) {
	f.asked = append(f.asked, fmt.Sprintf("%s (echo %v)", prompt, echo))
	if len(f.answers) == 0 {
		return nil, errors.New("no answer")
	}
	a := bytes.Clone(f.answers[0])
	f.answers = f.answers[1:]
	f.given = append(f.given, a)
	return a, nil
}

func (f *fakeTerminal) Close() error { return nil }

// tokenServer is serve's GET /token: alice with "secret" gets a token
// valid for ttl from the test's clock.
type tokenServer struct {
	srv     *httptest.Server
	now     *time.Time
	ttl     time.Duration
	calls   int
	queries []string
}

func newTokenServer(t *testing.T, now *time.Time, ttl time.Duration) *tokenServer {
	ts := &tokenServer{now: now, ttl: ttl}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.calls++
		ts.queries = append(ts.queries, r.URL.RawQuery)
		if r.URL.Path != "/token" {
			http.NotFound(w, r)
			return
		}
		user, pw, ok := r.BasicAuth()
		if !ok || user != "alice" || pw != "secret" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"Authentication failure"}`))
			return
		}
		tok := jwt(fmt.Sprintf(`{"exp":%d,"sub":"alice","n":%d}`, ts.now.Add(ts.ttl).Unix(), ts.calls))
		w.Header().Set("Authorization", "Bearer "+tok)
		w.Write([]byte(tok + "\n"))
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

const interactiveV1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`

// TestRun: the password is asked once and the token cached until it is
// about to expire; kubectl gets the version it asked for; a refusal
// caches nothing; without a terminal only a cached token answers.
func TestRun(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := newTokenServer(t, &now, 10*time.Minute)
	dir := filepath.Join(t.TempDir(), "cache", "pam-accesscontrol")
	var term *fakeTerminal
	run := func(execInfo string, answers ...string) (execCredential, error) {
		t.Helper()
		term = &fakeTerminal{}
		for _, a := range answers {
			term.answers = append(term.answers, []byte(a))
		}
		var out bytes.Buffer
		err := Run(context.Background(), Config{Server: ts.srv.URL, DefaultUser: "alice", ExecInfo: execInfo, CacheDir: dir,
			Client: ts.srv.Client(), Terminal: func() (Prompter, error) { return term, nil }, Now: func() time.Time { return now }}, &out)
		var cred execCredential
		if err == nil {
			if !bytes.HasSuffix(out.Bytes(), []byte("\n")) || json.Unmarshal(out.Bytes(), &cred) != nil {
				t.Fatalf("not one line of JSON: %q", out.String())
			}
		} else if out.Len() != 0 {
			t.Errorf("an error, and %q on stdout", out.String())
		}
		return cred, err
	}

	// the user name offered ($USER) is taken with an empty answer
	cred, err := run(interactiveV1, "", "secret")
	if err != nil || cred.Kind != "ExecCredential" || cred.APIVersion != V1 || cred.Status.Token == "" ||
		cred.Status.ExpirationTimestamp != now.Add(10*time.Minute).UTC().Format(time.RFC3339) {
		t.Fatalf("first run: %+v %v", cred, err)
	}
	if len(term.asked) != 2 || !strings.Contains(term.asked[0], "[alice]") || !strings.HasSuffix(term.asked[1], "(echo false)") {
		t.Errorf("asked %q", term.asked)
	}
	if !bytes.Equal(term.given[1], make([]byte, len("secret"))) {
		t.Errorf("the password was not zeroed: %q", term.given[1])
	}
	first := cred.Status.Token
	files, _ := filepath.Glob(filepath.Join(dir, "token-*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the cache file: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the cache directory: %v %v", fi.Mode(), err)
	}

	// cached: nobody is asked, the server is not called, even without a
	// terminal; v1beta1 when kubectl asks for it
	now = now.Add(9 * time.Minute)
	cred, err = run(strings.Replace(interactiveV1, `"interactive":true`, `"interactive":false`, 1))
	if err != nil || cred.Status.Token != first || len(term.asked) != 0 || ts.calls != 1 {
		t.Errorf("from the cache: %+v %v, asked %q, %d calls", cred, err, term.asked, ts.calls)
	}
	cred, err = run(`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":true}}`)
	if err != nil || cred.APIVersion != V1beta1 || cred.Status.Token != first {
		t.Errorf("v1beta1 from the cache: %+v %v", cred, err)
	}

	// about to expire: a new token, and without a terminal an error
	now = now.Add(time.Minute - minValid + time.Second)
	if _, err := run(strings.Replace(interactiveV1, `"interactive":true`, `"interactive":false`, 1)); !errors.Is(err, ErrNotInteractive) {
		t.Errorf("expired, not interactive: %v", err)
	}
	cred, err = run(interactiveV1, "alice", "secret")
	if err != nil || cred.Status.Token == first || ts.calls != 2 {
		t.Errorf("expired: %+v %v, %d calls", cred, err, ts.calls)
	}
	second := cred.Status.Token

	// a wrong password: an error that says so, the cached token stays
	now = now.Add(20 * time.Minute)
	if _, err := run(interactiveV1, "alice", "wrong"); err == nil || !strings.Contains(err.Error(), "may not have a Kubernetes token") {
		t.Errorf("wrong password: %v", err)
	}
	c, err := openCache(dir)
	must(t, err)
	defer c.close()
	if e, found, err := c.load(strings.TrimRight(ts.srv.URL, "/")); !found || err != nil || e.Token != second {
		t.Errorf("after a refusal the cache holds %+v %v %v", e, found, err)
	}
	// another user named: the cached token is alice's, so ask
	if err := Run(context.Background(), Config{Server: ts.srv.URL, User: "bob", CacheDir: dir, Client: ts.srv.Client(),
		ExecInfo: strings.Replace(interactiveV1, `"interactive":true`, `"interactive":false`, 1), Now: func() time.Time { return now.Add(-20 * time.Minute) }},
		&bytes.Buffer{}); !errors.Is(err, ErrNotInteractive) {
		t.Errorf("bob with alice's token cached: %v", err)
	}
}

func TestTokenExpiresIn(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := newTokenServer(t, &now, 3*time.Minute)
	term := &fakeTerminal{answers: [][]byte{[]byte("secret")}}
	err := Run(context.Background(), Config{Server: ts.srv.URL, User: "alice", Minutes: 3, CacheDir: t.TempDir() + "/c", Client: ts.srv.Client(),
		Terminal: func() (Prompter, error) { return term, nil }, Now: func() time.Time { return now }}, &bytes.Buffer{})
	if err != nil || len(ts.queries) != 1 || ts.queries[0] != "token-expires-in=3" || len(term.asked) != 1 {
		t.Errorf("%v, queries %q, asked %q", err, ts.queries, term.asked)
	}
}

// TestCacheRefused: a cache someone else could have written is refused:
// never read, never replaced, nobody asked for a password.
func TestCacheRefused(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := newTokenServer(t, &now, 10*time.Minute)
	server := strings.TrimRight(ts.srv.URL, "/")
	planted, _ := json.Marshal(entry{Server: server, User: "alice", Token: jwt(`{"exp":1900000000,"sub":"mallory"}`), Expires: now.Add(time.Hour)})
	for _, tt := range []struct {
		name  string
		plant func(t *testing.T, dir, file string)
		why   string
	}{
		{"symbolic link", func(t *testing.T, dir, file string) {
			target := filepath.Join(t.TempDir(), "mallory")
			os.WriteFile(target, planted, 0o600)
			must(t, os.Symlink(target, file))
		}, "symbolic link"},
		{"mode 0644", func(t *testing.T, dir, file string) { must(t, os.WriteFile(file, planted, 0o644)) }, "group or others"},
		{"mode 0660", func(t *testing.T, dir, file string) { must(t, os.WriteFile(file, planted, 0o660)) }, "group or others"},
		{"another owner", func(t *testing.T, dir, file string) {
			if os.Geteuid() != 0 {
				t.Skip("chown needs root")
			}
			must(t, os.WriteFile(file, planted, 0o600))
			must(t, os.Chown(file, 65534, 65534))
		}, "belongs to uid 65534"},
		{"a directory", func(t *testing.T, dir, file string) { must(t, os.Mkdir(file, 0o700)) }, "not a regular file"},
		{"directory 0755", func(t *testing.T, dir, file string) { must(t, os.Chmod(dir, 0o755)) }, "chmod 700"},
		{"directory a symbolic link", func(t *testing.T, dir, file string) {
			must(t, os.Remove(dir))
			must(t, os.Symlink(t.TempDir(), dir))
		}, "symbolic link"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pam-accesscontrol")
			must(t, os.Mkdir(dir, 0o700))
			file := filepath.Join(dir, name(server))
			tt.plant(t, dir, file)
			asked := false
			var out bytes.Buffer
			err := Run(context.Background(), Config{Server: ts.srv.URL, CacheDir: dir, Client: ts.srv.Client(), ExecInfo: interactiveV1,
				Terminal: func() (Prompter, error) { asked = true; return &fakeTerminal{}, nil }, Now: func() time.Time { return now }}, &out)
			if err == nil || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "refusing the token cache") {
				t.Errorf("%v, want a refusal with %q", err, tt.why)
			}
			if asked || out.Len() != 0 || ts.calls != 0 {
				t.Errorf("asked %v, printed %q, %d calls", asked, out.String(), ts.calls)
			}
		})
	}
}

// TestCAFile: --ca-file is the only root serve's certificate is checked
// against.
func TestCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(jwt(fmt.Sprintf(`{"exp":%d}`, time.Now().Add(time.Hour).Unix())) + "\n"))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	c, err := client(ca, 10*time.Second)
	must(t, err)
	if _, _, err := fetch(context.Background(), c, srv.URL, "alice", []byte("secret"), 0, time.Now()); err != nil {
		t.Errorf("with the CA: %v", err)
	}
	sys, err := client("", 10*time.Second)
	must(t, err)
	if _, _, err := fetch(context.Background(), sys, srv.URL, "alice", []byte("secret"), 0, time.Now()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v", err)
	}
	notPEM := filepath.Join(t.TempDir(), "x")
	must(t, os.WriteFile(notPEM, []byte("x"), 0o644))
	if _, err := client(notPEM, time.Second); err == nil {
		t.Error("a CA file without a certificate was taken")
	}
}

func TestParseFlags(t *testing.T) {
	env := map[string]string{"PAMAC_KUBE_CREDENTIAL_SERVER": "https://env.example.com", "PAMAC_KUBE_CREDENTIAL_USER": "bob"}
	o, err := parse([]string{"--user", "alice"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil || o.server != "https://env.example.com" || o.user != "alice" {
		t.Errorf("%+v %v", o, err)
	}
	for _, args := range [][]string{{}, {"--server", "http://example.com"}, {"--server", "https://x", "extra"}, {"--server", "https://x", "--token-expires-in", "-1"}} {
		if _, err := parse(args, func(string) string { return "" }, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
	if _, err := parse(nil, func(k string) string {
		return map[string]string{"PAMAC_KUBE_CREDENTIAL_SERVER": "https://x", "PAMAC_KUBE_CREDENTIAL_TOKEN_EXPIRES_IN": "ten"}[k]
	}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "PAMAC_KUBE_CREDENTIAL_TOKEN_EXPIRES_IN") {
		t.Errorf("a bad variable: %v", err)
	}
}

func TestCacheDir(t *testing.T) {
	for _, tt := range []struct{ xdg, home, want string }{
		{"/x/cache", "/home/a", "/x/cache/pam-accesscontrol"},
		{"relative", "/home/a", "/home/a/.cache/pam-accesscontrol"},
		{"", "/home/a", "/home/a/.cache/pam-accesscontrol"},
		{"", "", ""},
	} {
		got, err := cacheDir(func(k string) string { return map[string]string{"XDG_CACHE_HOME": tt.xdg, "HOME": tt.home}[k] })
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("%+v: %q %v", tt, got, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCacheDirectorySwapped: the directory checked is the one used, even
// when another takes its name afterwards.
func TestCacheDirectorySwapped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pam-accesscontrol")
	c, err := openCache(dir)
	must(t, err)
	defer c.close()
	must(t, os.Rename(dir, dir+".checked"))
	must(t, os.Mkdir(dir, 0o777)) // someone else's, in its place
	must(t, c.store(entry{Server: "https://k8s", User: "alice", Token: "t", Expires: time.Now().Add(time.Hour)}))
	if _, err := os.Stat(filepath.Join(dir+".checked", name("https://k8s"))); err != nil {
		t.Errorf("not stored in the directory checked: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("stored in the directory put in its place: %v", entries)
	}
	if e, found, err := c.load("https://k8s"); !found || err != nil || e.Token != "t" {
		t.Errorf("load: %+v %v %v", e, found, err)
	}
}
