package trust

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAppendLog plays whoever can write a log's directory (the syslog
// account in Ubuntu's root:syslog 0775 /var/log): what they plant under
// the log's name is refused and left as it was; the directory's owner,
// mode and the links on the way are checked.
func TestAppendLog(t *testing.T) {
	root := os.Geteuid() == 0
	type planted struct {
		path, want string // a file that must keep its content
	}
	tests := []struct {
		name string
		// setup makes the case in dir and returns the log's path and
		// the file that must stay unchanged, if any
		setup    func(t *testing.T, dir string) (string, planted)
		mkdir    bool
		want     string // in the error; "" for success
		needRoot string // why the case needs root
	}{
		{name: "the normal case: created, then appended", setup: func(t *testing.T, dir string) (string, planted) {
			return filepath.Join(dir, "log"), planted{}
		}},
		{name: "a symbolic link to a file", setup: func(t *testing.T, dir string) (string, planted) {
			target := write(t, filepath.Join(dir, "bashrc"), "root's\n", 0o644)
			link(t, target, filepath.Join(dir, "log"))
			return filepath.Join(dir, "log"), planted{target, "root's\n"}
		}, want: "is a symbolic link: refused"},
		{name: "a symbolic link to /dev/null", setup: func(t *testing.T, dir string) (string, planted) {
			link(t, "/dev/null", filepath.Join(dir, "log"))
			return filepath.Join(dir, "log"), planted{}
		}, want: "is a symbolic link"},
		{name: "a dangling symbolic link (would create its target)", setup: func(t *testing.T, dir string) (string, planted) {
			link(t, filepath.Join(dir, "made"), filepath.Join(dir, "log"))
			return filepath.Join(dir, "log"), planted{filepath.Join(dir, "made"), "\x00missing"}
		}, want: "is a symbolic link"},
		{name: "a hard link to another file", setup: func(t *testing.T, dir string) (string, planted) {
			target := write(t, filepath.Join(dir, "shadow"), "root:x:0:\n", 0o600)
			if err := os.Link(target, filepath.Join(dir, "log")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "log"), planted{target, "root:x:0:\n"}
		}, want: "has 2 links: refused"},
		{name: "a file of another user", setup: func(t *testing.T, dir string) (string, planted) {
			p := write(t, filepath.Join(dir, "log"), "theirs\n", 0o666)
			chown(t, p)
			return p, planted{p, "theirs\n"}
		}, want: "is owned by uid 65534, not root: refused", needRoot: "chown"},
		{name: "root's file that group can write", setup: func(t *testing.T, dir string) (string, planted) {
			p := write(t, filepath.Join(dir, "log"), "old\n", 0o660)
			return p, planted{p, "old\n"}
		}, want: "writable by group or others (0660): refused; chmod go-w"},
		{name: "a FIFO nobody reads (must not hang)", setup: func(t *testing.T, dir string) (string, planted) {
			p := filepath.Join(dir, "log")
			if err := syscall.Mkfifo(p, 0o666); err != nil {
				t.Fatal(err)
			}
			return p, planted{}
		}, want: "is a FIFO or a socket"},
		{name: "a FIFO someone reads", setup: func(t *testing.T, dir string) (string, planted) {
			p := filepath.Join(dir, "log")
			if err := syscall.Mkfifo(p, 0o666); err != nil {
				t.Fatal(err)
			}
			r, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return p, planted{}
		}, want: "is not a regular file"},
		{name: "a socket", setup: func(t *testing.T, dir string) (string, planted) {
			p := filepath.Join(dir, "log")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return p, planted{}
		}, want: "is a FIFO or a socket"},
		{name: "a directory", setup: func(t *testing.T, dir string) (string, planted) {
			p := filepath.Join(dir, "log")
			mkdir(t, p, 0o755)
			return p, planted{}
		}, want: "is a directory"},
		{name: "a directory not root's", setup: func(t *testing.T, dir string) (string, planted) {
			d := mkdir(t, filepath.Join(dir, "theirs"), 0o755)
			chown(t, d)
			return filepath.Join(d, "log"), planted{}
		}, want: "theirs is owned by uid 65534, not root; fix: chown root", needRoot: "chown"},
		{name: "a group-writable directory (Ubuntu's /var/log)", setup: func(t *testing.T, dir string) (string, planted) {
			d := mkdir(t, filepath.Join(dir, "varlog"), 0o775)
			return filepath.Join(d, "log"), planted{}
		}},
		{name: "a link planted in a group-writable directory", setup: func(t *testing.T, dir string) (string, planted) {
			d := mkdir(t, filepath.Join(dir, "varlog"), 0o775)
			target := write(t, filepath.Join(dir, "bashrc"), "root's\n", 0o644)
			link(t, target, filepath.Join(d, "log"))
			return filepath.Join(d, "log"), planted{target, "root's\n"}
		}, want: "is a symbolic link: refused"},
		{name: "a directory anyone may write", setup: func(t *testing.T, dir string) (string, planted) {
			d := mkdir(t, filepath.Join(dir, "open"), 0o777)
			return filepath.Join(d, "log"), planted{}
		}, want: "open is writable by anyone without the sticky bit (mode 0777); fix: chmod o-w"},
		{name: "a sticky directory anyone may write (/tmp)", setup: func(t *testing.T, dir string) (string, planted) {
			d := mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			return filepath.Join(d, "log"), planted{}
		}},
		{name: "a link to the directory, made by root where only root writes", setup: func(t *testing.T, dir string) (string, planted) {
			mkdir(t, filepath.Join(dir, "data"), 0o755)
			link(t, "data", filepath.Join(dir, "logs"))
			return filepath.Join(dir, "logs", "log"), planted{}
		}},
		{name: "a link to a directory, planted where a group writes", setup: func(t *testing.T, dir string) (string, planted) {
			d := mkdir(t, filepath.Join(dir, "varlog"), 0o775)
			mkdir(t, filepath.Join(dir, "cron.d"), 0o755)
			link(t, filepath.Join(dir, "cron.d"), filepath.Join(d, "pamac"))
			return filepath.Join(d, "pamac", "log"), planted{filepath.Join(dir, "cron.d", "log"), "\x00missing"}
		}, want: "varlog/pamac is a symbolic link in ", mkdir: true},
		{name: "a link to a link to the directory, and ..", setup: func(t *testing.T, dir string) (string, planted) {
			mkdir(t, filepath.Join(dir, "a", "b"), 0o755)
			link(t, filepath.Join(dir, "a", "b"), filepath.Join(dir, "l1"))
			link(t, "l1/../.././a/b/", filepath.Join(dir, "l2"))
			return dir + "/l2/../b/log", planted{} // not Join: it would clean ".." away
		}},
		{name: "a loop of links", setup: func(t *testing.T, dir string) (string, planted) {
			link(t, "l2", filepath.Join(dir, "l1"))
			link(t, "l1", filepath.Join(dir, "l2"))
			return filepath.Join(dir, "l1", "log"), planted{}
		}, want: "too many levels of symbolic links"},
		{name: "missing directories, made", setup: func(t *testing.T, dir string) (string, planted) {
			return filepath.Join(dir, "x", "y", "log"), planted{}
		}, mkdir: true},
		{name: "missing directories, not made", setup: func(t *testing.T, dir string) (string, planted) {
			return filepath.Join(dir, "x", "y", "log"), planted{}
		}, want: "no such file or directory"},
		{name: "a relative path", setup: func(t *testing.T, dir string) (string, planted) {
			return "log", planted{}
		}, want: "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot != "" && !root {
				t.Skipf("needs root to %s", tt.needRoot)
			}
			dir := t.TempDir()
			path, keep := tt.setup(t, dir)
			done := make(chan error, 1)
			go func() { done <- AppendLog(path, 0o640, tt.mkdir, []byte("one\n"), []byte("two\n")) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("AppendLog hangs")
			}
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want one with %q", err, tt.want)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if err := AppendLog(path, 0o640, tt.mkdir, []byte("three\n")); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil || string(got) != "one\ntwo\nthree\n" {
					t.Fatalf("log %q, %v", got, err)
				}
				fi, _ := os.Lstat(path)
				if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 {
					t.Errorf("log mode %v", fi.Mode())
				}
				if tt.mkdir {
					if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o750 {
						t.Errorf("made directory mode %v", fi.Mode())
					}
				}
			}
			if keep.path != "" {
				got, err := os.ReadFile(keep.path)
				switch {
				case keep.want == "\x00missing" && err == nil:
					t.Errorf("%s was made", keep.path)
				case keep.want != "\x00missing" && string(got) != keep.want:
					t.Errorf("%s now holds %q, want %q unchanged", keep.path, got, keep.want)
				}
			}
		})
	}
}

func write(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func mkdir(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func link(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, path string) {
	t.Helper()
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}
