package pyengine

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
)

// fakeProc writes /proc/PID/{stat,status,environ} for one process.
func fakeProc(t *testing.T, pid int32, start uint64, uid int, environ string) string {
	t.Helper()
	proc := t.TempDir()
	dir := filepath.Join(proc, fmt.Sprint(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (sshd: a) b) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 1 2\n", pid, pid, pid, start)
	status := fmt.Sprintf("Name:\tsshd\nUmask:\t0022\nUid:\t%d\t0\t0\t0\nGid:\t0\t0\t0\t0\n", uid)
	for name, data := range map[string]string{"stat": stat, "status": status, "environ": environ} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return proc
}

func TestEnviron(t *testing.T) {
	const env = "LANG=de_DE.UTF-8\x00PATH=/home/mallory/bin\x00HTTPS_PROXY=http://evil\x00REQUESTS_CA_BUNDLE=/tmp/ca\x00" +
		"PYTHONPATH=/tmp\x00PYTHONSTARTUP=/tmp/x\x00LD_PRELOAD=/tmp/x.so\x00PAMAC_CONSTANTS={}\x00PAMAC_OTHER=1\x00LC_TIME=C\x00TERM=xterm\x00" +
		"SSH_AUTH_SOCK=/tmp/a\x00no-equals\x00=empty\x00LANG=twice\x00"
	for _, tt := range []struct {
		name  string
		uid   int
		start uint64 // the one the caller knows
		want  []string
	}{
		{"started by root: the application's environment, less loaders and PATH", 0, 77,
			[]string{fixedPath, "LANG=de_DE.UTF-8", "HTTPS_PROXY=http://evil", "REQUESTS_CA_BUNDLE=/tmp/ca",
				"PAMAC_OTHER=1", "LC_TIME=C", "TERM=xterm", "SSH_AUTH_SOCK=/tmp/a"}},
		{"started by a user (su, sudo): the locale and terminal only", 1000, 77,
			[]string{fixedPath, "LANG=de_DE.UTF-8", "LC_TIME=C", "TERM=xterm"}},
		{"a reused pid: nothing of the stranger's", 0, 78, []string{fixedPath}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proc := fakeProc(t, 4242, 77, tt.uid, env)
			got := Environ(loginstate.Identifier{Proc: proc}, loginstate.Process{PID: 4242, Start: tt.start})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	t.Run("gone", func(t *testing.T) {
		got := Environ(loginstate.Identifier{Proc: t.TempDir()}, loginstate.Process{PID: 4242, Start: 77})
		if !reflect.DeepEqual(got, []string{fixedPath}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("oversized: cut at the last whole entry", func(t *testing.T) {
		big := "A=" + strings.Repeat("x", maxEnviron-10) + "\x00B=" + strings.Repeat("y", 100) + "\x00"
		proc := fakeProc(t, 4242, 77, 0, big)
		got := Environ(loginstate.Identifier{Proc: proc}, loginstate.Process{PID: 4242, Start: 77})
		if len(got) != 2 || !strings.HasPrefix(got[1], "A=xxx") {
			t.Errorf("got %d entries", len(got))
		}
	})
}
