package enroll

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/enrollment"
)

// fakeOP is a provider for the verb's own tests (test/enroll_test.go runs
// the verb against a real one): discovery, the device endpoint, and a
// token endpoint that is pending once, then grants, then refreshes.
func fakeOP(t *testing.T) (issuer string, polls, refreshes *atomic.Int32) {
	t.Helper()
	polls, refreshes = &atomic.Int32{}, &atomic.Int32{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer = srv.URL
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "token_endpoint": issuer + "/token",
			"device_authorization_endpoint": issuer + "/device_authorization"})
	})
	mux.HandleFunc("/device_authorization", func(w http.ResponseWriter, r *http.Request) {
		if id, secret, _ := r.BasicAuth(); id != "srv" || secret != "pw" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		fmt.Fprintf(w, `{"device_code":"DC","user_code":"WDJB-MJHT\u001b[2J","verification_uri":"%s/device","expires_in":60,"interval":1}`, issuer)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		switch r.PostForm.Get("grant_type") {
		case "refresh_token":
			n := refreshes.Add(1)
			if r.PostForm.Get("refresh_token") != fmt.Sprintf("RT%d", n-1) {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":"invalid_grant"}`)
				return
			}
			fmt.Fprintf(w, `{"access_token":"AT%d","token_type":"Bearer","expires_in":3600,"refresh_token":"RT%d"}`, n, n)
		default:
			if polls.Add(1) == 1 {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":"authorization_pending"}`)
				return
			}
			fmt.Fprint(w, `{"access_token":"AT0","token_type":"Bearer","expires_in":3600,"refresh_token":"RT0","scope":"openid pam"}`)
		}
	})
	return issuer, polls, refreshes
}

func secretFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestEnrollStatusRefresh(t *testing.T) {
	issuer, polls, refreshes := fakeOP(t)
	dir := filepath.Join(t.TempDir(), "state")
	code, out, errOut := run("--issuer", issuer, "--client-id", "srv", "--client-secret-file", secretFile(t),
		"--scope", "openid pam", "--state-dir", dir)
	if code != 0 {
		t.Fatalf("enroll: %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, issuer+"/device") || !strings.Contains(out, `WDJB-MJHT\x1b[2J`) {
		t.Errorf("the admin is not shown the URL and the code (made printable):\n%s", out)
	}
	if polls.Load() != 2 {
		t.Errorf("%d polls, want 2", polls.Load())
	}
	rec, err := enrollment.Load(dir)
	if err != nil || rec.AccessToken != "AT0" || rec.RefreshToken != "RT0" || rec.Scope != "openid pam" {
		t.Fatalf("record = %+v, %v", rec, err)
	}

	code, out, errOut = run("--status", "--state-dir", dir)
	if code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	for _, want := range []string{"issuer:        " + issuer, "client:        srv", "scopes:        openid pam",
		"expires:", "(in ", "refresh token: yes", "encryption:    none"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "AT0") || strings.Contains(out, "RT0") {
		t.Errorf("status shows a token:\n%s", out)
	}

	// a fresh hour token is not due; --force refreshes it
	if code, out, _ = run("--refresh", "--state-dir", dir); code != 0 || !strings.Contains(out, "not due") || refreshes.Load() != 0 {
		t.Errorf("refresh of a fresh token: %d %q, %d refreshes", code, out, refreshes.Load())
	}
	if code, out, errOut = run("--refresh", "--force", "--state-dir", dir); code != 0 || !strings.Contains(out, "refreshed") {
		t.Fatalf("refresh --force: %d %s%s", code, out, errOut)
	}
	rec, _ = enrollment.Load(dir)
	if rec.AccessToken != "AT1" || rec.RefreshToken != "RT1" || rec.RefreshedAt.IsZero() {
		t.Errorf("after refresh: %+v", rec)
	}
	// the provider refuses an old refresh token: enroll again, nothing changes
	rec.RefreshToken = "stale"
	if err := enrollment.Save(dir, *rec, nil); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = run("--refresh", "--force", "--state-dir", dir); code != 1 || !strings.Contains(errOut, "enroll again") {
		t.Errorf("refused refresh: %d %s", code, errOut)
	}
	if after, _ := enrollment.Load(dir); after.AccessToken != "AT1" {
		t.Errorf("a refused refresh changed the record: %+v", after)
	}

	// an expired record: status says so, exit 1
	rec.ExpiresAt = time.Now().Add(-time.Minute)
	enrollment.Save(dir, *rec, nil)
	if code, out, _ = run("--status", "--state-dir", dir); code != 1 || !strings.Contains(out, "expired") {
		t.Errorf("status of an expired token: %d\n%s", code, out)
	}
}

func TestEnrollRefusals(t *testing.T) {
	issuer, _, _ := fakeOP(t)
	open := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(open, []byte("pw"), 0o644)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("nope"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no issuer", []string{"--client-id", "x"}, cli.ExitUsage, "required"},
		{"status and refresh", []string{"--status", "--refresh"}, cli.ExitUsage, "do not go together"},
		{"force alone", []string{"--force"}, cli.ExitUsage, "goes with --refresh"},
		{"stray argument", []string{"--status", "x"}, cli.ExitUsage, "unexpected argument"},
		{"http issuer elsewhere", []string{"--issuer", "http://sso.example.com", "--client-id", "x"}, 1, "plain http"},
		{"a secret others may read", []string{"--issuer", issuer, "--client-id", "srv", "--client-secret-file", open}, 1, "chmod 0600"},
		{"a wrong secret", []string{"--issuer", issuer, "--client-id", "srv", "--client-secret-file", wrong}, 1, "invalid_client"},
		{"not enrolled", []string{"--status"}, 1, "not enrolled"},
		{"refresh not enrolled", []string{"--refresh"}, 1, "not enrolled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--state-dir", filepath.Join(t.TempDir(), "state"))
			code, _, errOut := run(args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}
