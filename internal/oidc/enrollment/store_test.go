package enrollment

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

func sample() Record {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	return Record{Issuer: "https://idp.example", ClientID: "pam-access", TokenEndpoint: "https://idp.example/token",
		Scope: "openid pam", TokenType: "Bearer", EnrolledAt: now, ExpiresAt: now.Add(time.Hour), HasRefreshToken: true,
		Secrets: Secrets{AccessToken: "access-XYZ", RefreshToken: "refresh-XYZ"}}
}

// stateDir is a 0700 directory of this process's in a tree trust accepts.
func stateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "made")
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	if err := Save(dir, sample(), nil); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: os.ModeDir | 0o700, Path(dir): 0o600} {
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), want)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Geteuid() {
			t.Errorf("%s: owner %d", path, uid)
		}
	}
	rec, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	if rec.Issuer != want.Issuer || rec.AccessToken != want.AccessToken || rec.RefreshToken != want.RefreshToken ||
		!rec.ExpiresAt.Equal(want.ExpiresAt) || rec.Scope != want.Scope {
		t.Errorf("Load = %+v", rec)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestLoadNotEnrolled(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), stateDir(t)} {
		if _, err := Load(dir); err != ErrNotEnrolled {
			t.Errorf("Load(%s) = %v, want ErrNotEnrolled", dir, err)
		}
	}
}

// TestPlantedLink: a link where the record goes is replaced, never
// written through, and never read.
func TestPlantedLink(t *testing.T) {
	dir := stateDir(t)
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	os.Symlink(victim, Path(dir))
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Load through a link = %v", err)
	}
	if err := Save(dir, sample(), nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("written through the link: %q", b)
	}
	if st, _ := os.Lstat(Path(dir)); st.Mode()&os.ModeSymlink != 0 {
		t.Error("the link is still there")
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"group-readable file", func(t *testing.T, dir string) { os.Chmod(Path(dir), 0o640) }, "read or written by others"},
		{"world-readable directory", func(t *testing.T, dir string) { os.Chmod(dir, 0o755) }, "mode 0700"},
		{"group-writable directory", func(t *testing.T, dir string) { os.Chmod(dir, 0o770) }, "writable by group"},
		{"hard link", func(t *testing.T, dir string) { os.Link(Path(dir), filepath.Join(dir, "other")) }, "links"},
		{"a directory in its place", func(t *testing.T, dir string) {
			os.Remove(Path(dir))
			os.Mkdir(Path(dir), 0o700)
		}, "not a regular file"},
		{"a FIFO in its place", func(t *testing.T, dir string) {
			os.Remove(Path(dir))
			syscall.Mkfifo(Path(dir), 0o600)
		}, "not a regular file"},
		{"the directory is a link", func(t *testing.T, dir string) {
			real := dir + ".real"
			os.Rename(dir, real)
			os.Symlink(real, dir)
		}, "symbolic link"},
		{"not JSON", func(t *testing.T, dir string) { os.WriteFile(Path(dir), []byte("{"), 0o600) }, "unexpected end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := stateDir(t)
			if err := Save(dir, sample(), nil); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, dir)
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestRefusedNotOwned(t *testing.T) {
	testenv.Root(t)
	dir := stateDir(t)
	if err := Save(dir, sample(), nil); err != nil {
		t.Fatal(err)
	}
	os.Chown(Path(dir), 65534, 65534)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not root") {
		t.Errorf("Load = %v", err)
	}
	os.Chown(dir, 65534, 65534)
	if err := Save(dir, sample(), nil); err == nil || !strings.Contains(err.Error(), "not root") {
		t.Errorf("Save into a directory of uid 65534 = %v", err)
	}
}

func TestRefreshDue(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		life     time.Duration
		after    time.Duration
		want     bool
		noExpiry bool
	}{
		{"fresh hour token", time.Hour, 10 * time.Minute, false, false},
		{"half an hour token at half", time.Hour, 30 * time.Minute, true, false},
		{"a day token at 11 h", 24 * time.Hour, 11 * time.Hour, false, false},
		{"a day token at 12 h", 24 * time.Hour, 12 * time.Hour, true, false},
		{"a 5-minute token is always due", 5 * time.Minute, 0, true, false},
		{"expired", time.Hour, 2 * time.Hour, true, false},
		{"no expiry", 0, 100 * time.Hour, false, true},
	} {
		r := Record{EnrolledAt: at}
		if !tc.noExpiry {
			r.ExpiresAt = at.Add(tc.life)
		}
		if got := r.RefreshDue(at.Add(tc.after)); got != tc.want {
			t.Errorf("%s: RefreshDue = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSystemdCreds seals with the real systemd-creds: the tokens are not
// in the file, and come back with Unseal.
func TestSystemdCreds(t *testing.T) {
	testenv.Root(t) // the host key is root's
	if _, err := exec.LookPath("systemd-creds"); err != nil {
		testenv.Missing(t, "systemd-creds (Debian package systemd)")
	}
	c := Creds{WithKey: "host"}
	if err := c.Available(); err != nil {
		t.Fatal(err)
	}
	dir := stateDir(t)
	if err := Save(dir, sample(), c); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(Path(dir))
	if strings.Contains(string(raw), "access-XYZ") || strings.Contains(string(raw), "refresh-XYZ") {
		t.Fatalf("a token in clear in the sealed record:\n%s", raw)
	}
	rec, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Encryption != SystemdCreds || rec.AccessToken != "" || rec.Issuer != "https://idp.example" || !rec.HasRefreshToken {
		t.Errorf("sealed record = %+v", rec)
	}
	sec, err := rec.Unseal(c)
	if err != nil || sec != sample().Secrets {
		t.Fatalf("Unseal = %+v, %v", sec, err)
	}
	if _, err := rec.Unseal(nil); err == nil {
		t.Error("Unseal without the sealer worked")
	}
	// a blob sealed under another credential name is refused
	other, err := c.run([]byte(`{"access_token":"planted"}`), "encrypt", "--with-key=host", "--name=other", "-", "-")
	if err != nil {
		t.Fatal(err)
	}
	rec.Sealed = other
	if _, err := rec.Unseal(c); err == nil {
		t.Error("a credential of another name was unsealed")
	}
}

// TestLock: a second Lock waits for the first, and gives up at its bound.
func TestLock(t *testing.T) {
	dir := stateDir(t)
	unlock, err := Lock(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := Lock(dir, 300*time.Millisecond); err != ErrBusy {
		t.Fatalf("second Lock = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %s", d)
	}
	go func() { time.Sleep(200 * time.Millisecond); unlock() }()
	unlock2, err := Lock(dir, 5*time.Second)
	if err != nil {
		t.Fatalf("Lock after the first was released: %v", err)
	}
	unlock2()
}
