package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestKubeCredential runs `pam-accesscontrol kube-credential` as kubectl
// does (KUBERNETES_EXEC_INFO, stdout read as an ExecCredential) against
// the real `pam-accesscontrol serve` with a "kubernetes" PAM service
// (pam_matrix and the module), the user typing on a pseudo-terminal that
// is the plugin's controlling terminal: the password is asked once,
// without echo; the token is cached and used until it is about to
// expire, then replaced; the rules refusing a user with the right
// password give no token; a cache someone else planted (a symbolic link,
// another owner, mode 0644) is refused before anyone is asked.
func TestKubeCredential(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s := serveStack(t, "DEFAULT:CLOSE\nKUBERNETES OPEN USER alice\n", "alice:secret:kubernetes\nbob:secret:kubernetes\n", "web", "kubernetes")
	// tokens of 8 s: the plugin hands out a cached one with at least 5 s left
	base := startServe(t, s, "--signing-key", hmacKey(t, s), "--token-ttl", "8s")
	cacheHome := filepath.Join(t.TempDir(), "cache")

	v1 := `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`
	v1beta1NoTTY := `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}`
	type result struct {
		cred struct {
			Kind, APIVersion string
			Status           struct{ ExpirationTimestamp, Token string }
		}
		status        int
		stderr, typed string
	}
	// run runs the plugin; with answers, on a new pseudo-terminal where
	// each answer is typed once its prompt shows
	var env []string // more of the plugin's environment
	run := func(t *testing.T, execInfo string, answers ...[2]string) result {
		t.Helper()
		cmd := exec.Command(cli, "kube-credential", "--server", base)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "USER=alice", "XDG_CACHE_HOME=" + cacheHome, "KUBERNETES_EXEC_INFO=" + execInfo}, env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
		var screen lockedBuffer
		var master *os.File
		if len(answers) > 0 {
			var slave *os.File
			master, slave = openPTY(t)
			cmd.Stdin = slave
			cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, 0
			must(t, cmd.Start())
			slave.Close()
			go io.Copy(&screen, master) // ends with EIO once the plugin is gone
		} else {
			must(t, cmd.Start())
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for _, a := range answers {
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(screen.String(), a[0]) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no prompt %q on the terminal: %q; stderr %s", a[0], screen.String(), stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			// the prompt is on the screen: the terminal is set for it
			master.Write([]byte(a[1] + "\n"))
		}
		var r result
		select {
		case err := <-done:
			r.status = exitStatus(t, err)
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("kube-credential hung: %q %s", screen.String(), stderr.String())
		}
		if master != nil {
			master.Close()
		}
		r.stderr, r.typed = stderr.String(), screen.String()
		if r.status == 0 {
			if err := json.Unmarshal(stdout.Bytes(), &r.cred); err != nil {
				t.Errorf("stdout is not an ExecCredential: %q", stdout.String())
			}
		} else if stdout.Len() > 0 {
			t.Errorf("failed (%d) and printed %q", r.status, stdout.String())
		}
		return r
	}
	cacheFiles := func() []string {
		files, _ := filepath.Glob(filepath.Join(cacheHome, "pam-accesscontrol", "token-*.json"))
		return files
	}

	// 1. nothing cached: asked once, $USER offered, the password not echoed
	r := run(t, v1, [2]string{"User name for " + base + " [alice]: ", ""}, [2]string{"Password for alice at " + base + ": ", "secret"})
	if r.status != 0 || r.cred.Kind != "ExecCredential" || r.cred.APIVersion != "client.authentication.k8s.io/v1" || strings.Count(r.cred.Status.Token, ".") != 2 {
		t.Fatalf("first run: %d %+v %s", r.status, r.cred, r.stderr)
	}
	if strings.Contains(r.typed, "secret") {
		t.Errorf("the password was echoed on the terminal: %q", r.typed)
	}
	exp, err := time.Parse(time.RFC3339, r.cred.Status.ExpirationTimestamp)
	if err != nil || exp.Before(time.Now().Add(6*time.Second)) || exp.After(time.Now().Add(9*time.Second)) {
		t.Errorf("expirationTimestamp %q (%v), want serve's 8 s from now", r.cred.Status.ExpirationTimestamp, err)
	}
	first := r.cred.Status.Token
	// the token is serve's: kube-apiserver's webhook takes it
	review := fmt.Sprintf(`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":%q}}`, first)
	if code, raw, _ := curlDo(t, "POST", base+"/authenticate", review); code != 200 || !strings.Contains(string(raw), `"authenticated":true`) {
		t.Errorf("the plugin's token at /authenticate: %d %s", code, raw)
	}
	files := cacheFiles()
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the cache file: %v %v, want 0600", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Dir(files[0])); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the cache directory: %v %v, want 0700", fi.Mode(), err)
	}

	// 2. cached: no terminal needed, nobody asked, in the version asked for
	r = run(t, v1beta1NoTTY)
	if r.status != 0 || r.cred.Status.Token != first || r.cred.APIVersion != "client.authentication.k8s.io/v1beta1" {
		t.Errorf("from the cache, without a terminal: %d %+v %s", r.status, r.cred, r.stderr)
	}

	// 3. about to expire: without a terminal an error that says why; with
	// one, asked again, and the cache holds the new token
	time.Sleep(time.Until(exp.Add(-4 * time.Second)))
	r = run(t, v1beta1NoTTY)
	if r.status != 1 || !strings.Contains(r.stderr, "interactive=false") {
		t.Errorf("expired, without a terminal: %d %s", r.status, r.stderr)
	}
	r = run(t, v1, [2]string{"[alice]: ", "alice"}, [2]string{"Password for alice", "secret"})
	if r.status != 0 || r.cred.Status.Token == first || r.cred.Status.Token == "" {
		t.Fatalf("after expiry: %d %+v %s", r.status, r.cred, r.stderr)
	}
	second := r.cred.Status.Token
	if data, err := os.ReadFile(files[0]); err != nil || !strings.Contains(string(data), second) || strings.Contains(string(data), first) {
		t.Errorf("the cache after expiry: %v %s", err, data)
	}

	// 4. bob named (the kubeconfig's env:), so alice's cached token is
	// not his; the right password, but the rules refuse him: no token,
	// and alice's cached token stays
	env = []string{"PAMAC_KUBE_CREDENTIAL_USER=bob"}
	r = run(t, v1, [2]string{"Password for bob at " + base + ": ", "secret"})
	if r.status != 1 || !strings.Contains(r.stderr, "bob may not have a Kubernetes token") || strings.Contains(r.typed, "User name") {
		t.Errorf("bob: %d %s; terminal %q", r.status, r.stderr, r.typed)
	}
	env = nil
	if data, _ := os.ReadFile(files[0]); !strings.Contains(string(data), second) {
		t.Errorf("bob's refusal changed the cache: %s", data)
	}

	// 5. a cache someone else put there: a token valid for an hour, which
	// must be neither printed nor replaced, and nobody asked
	planted := func() []byte {
		var e map[string]any
		must(t, json.Unmarshal(mustRead(t, files[0]), &e))
		e["token"] = "mallory.planted.token"
		e["expirationTimestamp"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		out, _ := json.Marshal(e)
		return out
	}()
	for _, tt := range []struct {
		name  string
		plant func(path string)
		why   string
	}{
		{"symbolic link", func(path string) {
			elsewhere := filepath.Join(t.TempDir(), "mallory.json")
			must(t, os.WriteFile(elsewhere, planted, 0o600))
			must(t, os.Symlink(elsewhere, path))
		}, "it is a symbolic link"},
		{"another owner", func(path string) {
			must(t, os.WriteFile(path, planted, 0o600))
			must(t, os.Chown(path, 65534, 65534))
		}, "it belongs to uid 65534"},
		{"mode 0644", func(path string) {
			must(t, os.WriteFile(path, planted, 0o644))
			must(t, os.Chmod(path, 0o644))
		}, "group or others may use it (mode 0644)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			must(t, os.Remove(files[0]))
			tt.plant(files[0])
			for _, r := range []result{run(t, v1beta1NoTTY), run(t, v1, [2]string{"", ""})} {
				if r.status != 1 || !strings.Contains(r.stderr, "refusing the token cache "+files[0]+": "+tt.why) {
					t.Errorf("planted: %d %q", r.status, r.stderr)
				}
				if strings.Contains(r.typed, "Password") || strings.Contains(r.typed, "User name") {
					t.Errorf("asked despite the planted cache: %q", r.typed)
				}
			}
			if data, err := os.ReadFile(files[0]); err != nil || !bytes.Equal(data, planted) {
				t.Errorf("the planted file was changed: %v %s", err, data)
			}
		})
	}
}

// openPTY opens a new pseudo-terminal pair (posix_openpt, unlockpt,
// ptsname), neither end the test's controlling terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	must(t, err)
	fd := int(m.Fd())
	must(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	must(t, err)
	sl, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	must(t, err)
	t.Cleanup(func() { m.Close(); sl.Close() })
	return m, sl
}
