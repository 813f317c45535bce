package test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/enrollment"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// enrollRun is one `pam-accesscontrol enroll` waiting for its approval.
type enrollRun struct {
	cmd      *exec.Cmd
	UserCode string
	URI      string // verification_uri
	Complete string // verification_uri_complete
	stdout   bytes.Buffer
	stderr   bytes.Buffer
	done     chan struct{}
	code     int
}

// startEnroll runs enroll against op with extra args and returns once the
// user code is shown.
func startEnroll(t *testing.T, op *zitadelOP, stateDir string, extra ...string) *enrollRun {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "client-secret")
	must(t, os.WriteFile(secret, []byte("pamsecret\n"), 0o600))
	args := append([]string{"enroll", "--issuer", op.Issuer, "--client-id", "pam-access", "--client-secret-file", secret,
		"--state-dir", stateDir}, extra...)
	r := &enrollRun{cmd: command(cli, args...), done: make(chan struct{})}
	out, err := r.cmd.StdoutPipe()
	must(t, err)
	r.cmd.Stderr = &r.stderr
	must(t, r.cmd.Start())
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done })
	shown := make(chan struct{})
	go func() {
		s := bufio.NewScanner(out)
		var prev string
		for s.Scan() {
			line := s.Text()
			r.stdout.WriteString(line + "\n")
			v := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(prev, "To enroll this server"):
				r.URI = v
			case strings.HasPrefix(prev, "and enter the code"):
				r.UserCode = v
			case strings.HasPrefix(prev, "or open"):
				r.Complete = v
			case strings.HasPrefix(line, "Waiting for the approval"):
				close(shown)
			}
			prev = line
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		err := r.cmd.Wait()
		r.code = exitStatus(t, err)
		close(r.done)
	}()
	select {
	case <-shown:
	case <-r.done:
		t.Fatalf("enroll ended before showing a code: exit %d\n%s%s", r.code, r.stdout.String(), r.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("enroll showed no code within 30 s\n%s", r.stdout.String())
	}
	return r
}

// wait returns enroll's exit status, its stdout and stderr.
func (r *enrollRun) wait(t *testing.T) (int, string, string) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("enroll still polls after 2 minutes")
	}
	return r.code, r.stdout.String(), r.stderr.String()
}

// TestEnrollZitadel runs the device authorization grant of `pam-accesscontrol
// enroll` against zitadel/oidc's example provider, the test playing the
// administrator on the provider's verification page: approved (the record
// root's, 0600 in a 0700 directory, its token active at the provider,
// --status without it, --refresh trading it for a new one), approved with
// --encrypt (systemd-creds: no token in the file), denied (access_denied,
// nothing kept), expired (the provider's expired_token) and slowed down
// (the provider's slow_down: the next poll 5 s later than the interval).
func TestEnrollZitadel(t *testing.T) {
	t.Run("approved", func(t *testing.T) {
		t.Parallel()
		op := startZitadelOP(t)
		dir := filepath.Join(t.TempDir(), "state")
		r := startEnroll(t, op, dir, "--scope", "openid profile offline_access pam")
		if r.URI != op.Issuer+"/device" || r.UserCode == "" || !strings.Contains(r.Complete, "user_code=") {
			t.Errorf("shown: uri %q code %q complete %q\n%s", r.URI, r.UserCode, r.Complete, r.stdout.String())
		}
		op.Approve(t, r.UserCode, "alice", "alicepw", true)
		code, out, errOut := r.wait(t)
		if code != 0 || !strings.Contains(out, "Enrolled with "+op.Issuer+" as pam-access") {
			t.Fatalf("enroll: exit %d\n%s%s", code, out, errOut)
		}
		checkRootOnly(t, dir)
		rec, err := enrollment.Load(dir)
		must(t, err)
		intro := op.Introspect(t, "pam-access", "pamsecret", rec.AccessToken)
		if intro["active"] != true || intro["sub"] != "alice" || !strings.Contains(intro["scope"].(string), "pam") {
			t.Errorf("the kept token at the provider: %v", intro)
		}
		if !rec.HasRefreshToken || rec.RefreshToken == "" {
			t.Fatalf("no refresh token kept (offline_access asked): %+v", rec)
		}

		status, errOut, code := runCLI(t, "/", nil, "enroll", "--status", "--state-dir", dir)
		for _, want := range []string{"issuer:        " + op.Issuer, "client:        pam-access",
			"scopes:        openid profile offline_access pam", "expires:", "(in ", "refresh token: yes", "file:          " + enrollment.Path(dir)} {
			if !strings.Contains(status, want) {
				t.Errorf("--status lacks %q:\n%s", want, status)
			}
		}
		if code != 0 || strings.Contains(status, rec.AccessToken) || strings.Contains(status, rec.RefreshToken) {
			t.Errorf("--status: exit %d, or it shows a token:\n%s%s", code, status, errOut)
		}

		// the provider's access tokens live 5 minutes: due at once
		out, errOut, code = runCLI(t, "/", nil, "enroll", "--refresh", "--state-dir", dir)
		if code != 0 || !strings.Contains(out, "refreshed: the new token expires at") {
			t.Fatalf("--refresh: exit %d\n%s%s", code, out, errOut)
		}
		checkRootOnly(t, dir)
		after, err := enrollment.Load(dir)
		must(t, err)
		if after.AccessToken == rec.AccessToken || after.RefreshedAt.IsZero() {
			t.Errorf("--refresh kept the old token: %+v", after)
		}
		if intro := op.Introspect(t, "pam-access", "pamsecret", after.AccessToken); intro["active"] != true || intro["sub"] != "alice" {
			t.Errorf("the refreshed token at the provider: %v", intro)
		}
	})

	t.Run("approved, encrypted", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("systemd-creds"); err != nil {
			testenv.Missing(t, "systemd-creds (Debian package systemd)")
		}
		op := startZitadelOP(t)
		dir := filepath.Join(t.TempDir(), "state")
		r := startEnroll(t, op, dir, "--scope", "openid offline_access pam", "--encrypt")
		op.Approve(t, r.UserCode, "alice", "alicepw", true)
		if code, out, errOut := r.wait(t); code != 0 {
			t.Fatalf("enroll --encrypt: exit %d\n%s%s", code, out, errOut)
		}
		checkRootOnly(t, dir)
		rec, err := enrollment.Load(dir)
		must(t, err)
		if rec.Encryption != "systemd-creds" || rec.AccessToken != "" || len(rec.Sealed) == 0 {
			t.Fatalf("record not sealed: %+v", rec)
		}
		sec, err := rec.Unseal(enrollment.Creds{})
		must(t, err)
		raw := string(mustRead(t, enrollment.Path(dir)))
		if strings.Contains(raw, sec.AccessToken) || strings.Contains(raw, sec.RefreshToken) {
			t.Errorf("a token in clear in the file:\n%s", raw)
		}
		if intro := op.Introspect(t, "pam-access", "pamsecret", sec.AccessToken); intro["active"] != true {
			t.Errorf("the sealed token at the provider: %v", intro)
		}
		status, _, _ := runCLI(t, "/", nil, "enroll", "--status", "--state-dir", dir)
		if !strings.Contains(status, "encryption:    systemd-creds") {
			t.Errorf("--status:\n%s", status)
		}
		if out, errOut, code := runCLI(t, "/", nil, "enroll", "--refresh", "--state-dir", dir); code != 0 {
			t.Fatalf("--refresh of sealed tokens: exit %d\n%s%s", code, out, errOut)
		}
		after, err := enrollment.Load(dir)
		must(t, err)
		sec2, err := after.Unseal(enrollment.Creds{})
		must(t, err)
		if after.Encryption != "systemd-creds" || sec2.AccessToken == sec.AccessToken || after.AccessToken != "" {
			t.Errorf("after --refresh: %+v", after)
		}
	})

	t.Run("denied", func(t *testing.T) {
		t.Parallel()
		op := startZitadelOP(t)
		dir := filepath.Join(t.TempDir(), "state")
		r := startEnroll(t, op, dir)
		op.Approve(t, r.UserCode, "alice", "alicepw", false)
		code, out, errOut := r.wait(t)
		if code != 1 || !strings.Contains(errOut, "denied at the provider (access_denied)") {
			t.Errorf("denied: exit %d\n%s%s", code, out, errOut)
		}
		if _, err := os.Lstat(enrollment.Path(dir)); err == nil {
			t.Error("a record was kept for a denied request")
		}
	})

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		// the provider announces 5 minutes, and forgets the code after 2 s
		op := startZitadelOP(t, "-code-lifetime", "2s")
		dir := filepath.Join(t.TempDir(), "state")
		r := startEnroll(t, op, dir)
		code, out, errOut := r.wait(t)
		if code != 1 || !strings.Contains(errOut, "expired before it was approved (expired_token)") {
			t.Errorf("expired: exit %d\n%s%s", code, out, errOut)
		}
		if n := len(op.Requests("/oauth/token")); n != 1 {
			t.Errorf("%d polls; want 1, ended by expired_token", n)
		}
		if _, err := os.Lstat(enrollment.Path(dir)); err == nil {
			t.Error("a record was kept for an expired request")
		}
	})

	t.Run("slow_down", func(t *testing.T) {
		t.Parallel()
		// the first poll finds the provider's storage slow: slow_down
		op := startZitadelOP(t, "-slow-polls", "1")
		dir := filepath.Join(t.TempDir(), "state")
		r := startEnroll(t, op, dir)
		op.Approve(t, r.UserCode, "alice", "alicepw", true)
		code, out, errOut := r.wait(t)
		if code != 0 {
			t.Fatalf("slow_down: exit %d\n%s%s", code, out, errOut)
		}
		polls := op.Requests("/oauth/token")
		if len(polls) != 2 {
			t.Fatalf("%d polls, want 2 (slow_down, then the token)", len(polls))
		}
		// the provider's interval is 5 s; after slow_down it is 10 s
		if gap := polls[1].Sub(polls[0]); gap < 9500*time.Millisecond {
			t.Errorf("the poll after slow_down came %s after it, want 10 s", gap)
		}
	})
}

// checkRootOnly: the enrollment is root's, 0600, in a root 0700 directory.
func checkRootOnly(t *testing.T, dir string) {
	t.Helper()
	for path, want := range map[string]os.FileMode{dir: os.ModeDir | 0o700, enrollment.Path(dir): 0o600} {
		st, err := os.Lstat(path)
		must(t, err)
		if st.Mode() != want || st.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Errorf("%s: mode %v uid %d, want %v root", path, st.Mode(), st.Sys().(*syscall.Stat_t).Uid, want)
		}
	}
}
