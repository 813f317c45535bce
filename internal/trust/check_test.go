package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// asRoot skips a test of the strict rule when the test does not run as
// root: every file it makes would be its user's, and refused.
func asRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the rule wants root's files, and chown needs root: run as root (make test does)")
	}
}

// pathCase is one path made in a fresh directory, and what a check of it
// says: "" when it passes, else a part of the error.
type pathCase struct {
	name  string
	setup func(t *testing.T, dir string) string
	opts  []Option
	want  string
}

// run runs check on each case within 5 seconds (none may hang), and
// requires the error to name the path when want names nothing else.
func runCases(t *testing.T, cases []pathCase, check func(path string, opts ...Option) error) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			done := make(chan error, 1)
			go func() { done <- check(path, tt.opts...) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("hangs")
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one with %q", err, tt.want)
			}
		})
	}
}

// fileCases are the rule for what decides logins, as File and ReadFile
// apply it; each plays who could have changed the file.
func fileCases() []pathCase {
	file := func(t *testing.T, dir string) string { return write(t, filepath.Join(dir, "f.conf"), "x\n", 0o644) }
	return []pathCase{
		{name: "root's 0644 file", setup: file},
		{name: "root's 0600 file", setup: func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "f.conf"), "x\n", 0o600)
		}},
		{name: "group-writable", setup: func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "f.conf"), "x\n", 0o664)
		}, want: "f.conf is writable by group or others (mode 0664); fix: chmod go-w "},
		{name: "world-writable", setup: func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "f.conf"), "x\n", 0o646)
		}, want: "writable by group or others (mode 0646)"},
		{name: "another user's", setup: func(t *testing.T, dir string) string {
			p := file(t, dir)
			chown(t, p)
			return p
		}, want: "f.conf is owned by uid 65534, not root; fix: chown root "},
		{name: "a directory above writable by others", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "open"), 0o777)
			return write(t, filepath.Join(d, "f.conf"), "x\n", 0o644)
		}, want: "open is writable by group or others (mode 0777); fix: chmod go-w"},
		{name: "a directory above writable by its group", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "group"), 0o775)
			return write(t, filepath.Join(d, "f.conf"), "x\n", 0o644)
		}, want: "group is writable by group or others (mode 0775)"},
		{name: "a sticky directory above (/tmp)", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			return write(t, filepath.Join(d, "f.conf"), "x\n", 0o644)
		}},
		{name: "a directory above of another user", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "theirs"), 0o755)
			p := write(t, filepath.Join(d, "f.conf"), "x\n", 0o644)
			chown(t, d)
			return p
		}, want: "theirs is owned by uid 65534, not root; fix: chown root"},
		{name: "a directory two above writable by others", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "a", "b"), 0o755)
			mkdir(t, filepath.Join(dir, "a"), 0o777)
			return write(t, filepath.Join(dir, "a", "b", "f.conf"), "x\n", 0o644)
		}, want: "/a is writable by group or others"},
		{name: "a link made by root where only root writes", setup: func(t *testing.T, dir string) string {
			file(t, dir)
			link(t, "f.conf", filepath.Join(dir, "link.conf"))
			return filepath.Join(dir, "link.conf")
		}},
		{name: "a link into a directory others may write", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "open"), 0o777)
			write(t, filepath.Join(d, "real.conf"), "x\n", 0o644)
			link(t, filepath.Join(d, "real.conf"), filepath.Join(dir, "link.conf"))
			return filepath.Join(dir, "link.conf")
		}, want: "open is writable by group or others (mode 0777)"},
		{name: "a link planted in a sticky directory (anyone may add one)", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			file(t, dir)
			link(t, filepath.Join(dir, "f.conf"), filepath.Join(d, "link.conf"))
			return filepath.Join(d, "link.conf")
		}, want: "tmp/link.conf is a symbolic link in "},
		{name: "a directory above that is a link made by root", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "data"), 0o755)
			write(t, filepath.Join(d, "f.conf"), "x\n", 0o644)
			link(t, "data", filepath.Join(dir, "etc"))
			return filepath.Join(dir, "etc", "f.conf")
		}},
		{name: "a directory above that is a link to a directory others may write", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "data"), 0o777)
			write(t, filepath.Join(d, "f.conf"), "x\n", 0o644)
			link(t, "data", filepath.Join(dir, "etc"))
			return filepath.Join(dir, "etc", "f.conf")
		}, want: "data is writable by group or others (mode 0777)"},
		{name: "links to links, and ..", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "a", "b"), 0o755)
			write(t, filepath.Join(dir, "a", "b", "f.conf"), "x\n", 0o644)
			link(t, filepath.Join(dir, "a", "b"), filepath.Join(dir, "l1"))
			link(t, "l1/../.././a/b/", filepath.Join(dir, "l2"))
			link(t, "../b/f.conf", filepath.Join(dir, "a", "b", "last"))
			return dir + "/l2/../b/last" // not Join: it would clean ".." away
		}},
		{name: "a loop of links", setup: func(t *testing.T, dir string) string {
			link(t, "l2", filepath.Join(dir, "l1"))
			link(t, "l1", filepath.Join(dir, "l2"))
			return filepath.Join(dir, "l1")
		}, want: "too many levels of symbolic links"},
		{name: "missing", setup: func(t *testing.T, dir string) string {
			return filepath.Join(dir, "missing.conf")
		}, want: "no such file or directory"},
		{name: "a directory above missing", setup: func(t *testing.T, dir string) string {
			return filepath.Join(dir, "missing", "f.conf")
		}, want: "no such file or directory"},
		{name: "a file where a directory should be", setup: func(t *testing.T, dir string) string {
			return filepath.Join(file(t, dir), "f.conf")
		}, want: "not a directory"},
		{name: "a FIFO", setup: func(t *testing.T, dir string) string {
			return fifo(t, filepath.Join(dir, "f.conf"))
		}, want: "f.conf is not a regular file (a FIFO)"},
		{name: "a directory", setup: func(t *testing.T, dir string) string {
			return mkdir(t, filepath.Join(dir, "d"), 0o755)
		}, want: "is not a regular file (a directory)"},
		{name: "a socket", setup: func(t *testing.T, dir string) string {
			return listen(t, filepath.Join(dir, "s"))
		}, want: "is not a regular file (a socket)"},
		{name: "/dev/zero", setup: func(*testing.T, string) string { return "/dev/zero" },
			want: "/dev/zero is not a regular file (a character device)"},
		{name: "NoFollow: a link", setup: func(t *testing.T, dir string) string {
			file(t, dir)
			link(t, "f.conf", filepath.Join(dir, "link.conf"))
			return filepath.Join(dir, "link.conf")
		}, opts: []Option{NoFollow}, want: "link.conf is not a regular file (a symbolic link)"},
		{name: "NoFollow: a link above is followed", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "data"), 0o755)
			write(t, filepath.Join(d, "f.conf"), "x\n", 0o644)
			link(t, "data", filepath.Join(dir, "etc"))
			return filepath.Join(dir, "etc", "f.conf")
		}, opts: []Option{NoFollow}},
		{name: "AnyOwner: another user's, in a directory others may write", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "open"), 0o777)
			p := write(t, filepath.Join(d, "f.conf"), "x\n", 0o666)
			chown(t, p)
			return p
		}, opts: []Option{AnyOwner}},
		{name: "AnyOwner: a link anywhere is followed", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			file(t, dir)
			link(t, filepath.Join(dir, "f.conf"), filepath.Join(d, "link.conf"))
			return filepath.Join(d, "link.conf")
		}, opts: []Option{AnyOwner}},
		{name: "AnyOwner: still a regular file", setup: func(t *testing.T, dir string) string {
			return fifo(t, filepath.Join(dir, "f.conf"))
		}, opts: []Option{AnyOwner}, want: "is not a regular file (a FIFO)"},
		{name: "AnyOwner: a link to a FIFO", setup: func(t *testing.T, dir string) string {
			fifo(t, filepath.Join(dir, "fifo"))
			link(t, "fifo", filepath.Join(dir, "f.conf"))
			return filepath.Join(dir, "f.conf")
		}, opts: []Option{AnyOwner}, want: "f.conf is not a regular file (a FIFO)"},
		{name: "AnyOwner: a directory", setup: func(t *testing.T, dir string) string { return dir },
			opts: []Option{AnyOwner}, want: "is not a regular file (a directory)"},
		{name: "AnyOwner: /dev/zero", setup: func(*testing.T, string) string { return "/dev/zero" },
			opts: []Option{AnyOwner}, want: "/dev/zero is not a regular file (a character device)"},
		{name: "AnyOwner: missing", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "missing") },
			opts: []Option{AnyOwner}, want: "no such file or directory"},
		{name: "AnyOwner, NoFollow: a link", setup: func(t *testing.T, dir string) string {
			file(t, dir)
			link(t, "f.conf", filepath.Join(dir, "link.conf"))
			return filepath.Join(dir, "link.conf")
		}, opts: []Option{AnyOwner, NoFollow}, want: "is not a regular file (a symbolic link)"},
	}
}

// TestFile: the rule for files that decide logins, looked at by name.
func TestFile(t *testing.T) {
	asRoot(t)
	runCases(t, fileCases(), File)
	t.Run("missing is fs.ErrNotExist", func(t *testing.T) {
		if err := File(filepath.Join(t.TempDir(), "x")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a relative path", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "f.conf"), "x\n", 0o644)
		t.Chdir(dir)
		if err := File("f.conf"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReadFile: the same rule for what is read, and what is read is
// bounded and never blocks.
func TestReadFile(t *testing.T) {
	asRoot(t)
	read := func(path string, opts ...Option) error {
		data, err := ReadFile(path, 1<<20, opts...)
		if err == nil && string(data) != "x\n" {
			return errors.New("read " + string(data))
		}
		return err
	}
	cases := append(fileCases(),
		pathCase{name: "a FIFO someone writes", setup: func(t *testing.T, dir string) string {
			return written(t, filepath.Join(dir, "f.conf"))
		}, want: "is not a regular file (a FIFO)"},
		pathCase{name: "AnyOwner: a FIFO someone writes", setup: func(t *testing.T, dir string) string {
			return written(t, filepath.Join(dir, "f.conf"))
		}, opts: []Option{AnyOwner}, want: "is not a regular file (a FIFO)"},
	)
	// a secret: closed to group and others, on the descriptor read
	for _, c := range []struct {
		mode os.FileMode
		opts []Option
		want string
	}{
		{0o600, []Option{Private}, ""},
		{0o400, []Option{Private}, ""},
		{0o640, []Option{Private}, "readable by group or others (mode 0640)"},
		{0o604, []Option{Private}, "readable by group or others (mode 0604)"},
		{0o644, []Option{Private, AnyOwner}, "readable by group or others (mode 0644)"},
		{0o644, nil, ""},
	} {
		cases = append(cases, pathCase{name: fmt.Sprintf("%v: a secret of mode %04o", c.opts, c.mode), setup: func(t *testing.T, dir string) string {
			return write(t, filepath.Join(dir, "secret"), "x\n", c.mode)
		}, opts: c.opts, want: c.want})
	}
	runCases(t, cases, read)
	for _, opts := range [][]Option{nil, {AnyOwner}} {
		if _, err := ReadFile("/proc/self/maps", 10, opts...); err == nil || !strings.Contains(err.Error(), "/proc/self/maps: larger than 10 bytes") {
			t.Errorf("%v: over the bound: %v", opts, err)
		}
	}
	p := write(t, filepath.Join(t.TempDir(), "ten"), "0123456789", 0o644)
	if data, err := ReadFile(p, 10); err != nil || string(data) != "0123456789" {
		t.Errorf("at the bound: %q, %v", data, err)
	}
}

// TestDir: a directory that decides what is read (an OPA_PULL_FILES
// entry) is root's and closed to group and others; sticky is no excuse.
func TestDir(t *testing.T) {
	asRoot(t)
	runCases(t, []pathCase{
		{name: "root's 0755", setup: func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "d"), 0o755) }},
		{name: "writable by others", setup: func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "d"), 0o777) },
			want: "d is writable by group or others (mode 0777); fix: chmod go-w"},
		{name: "sticky, writable by others", setup: func(t *testing.T, dir string) string {
			return mkdir(t, filepath.Join(dir, "d"), os.ModeSticky|0o777)
		}, want: "d is writable by group or others (mode 1777)"},
		{name: "another user's", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "d"), 0o755)
			chown(t, d)
			return d
		}, want: "d is owned by uid 65534, not root"},
		{name: "a link made by root", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "d"), 0o755)
			link(t, "d", filepath.Join(dir, "l"))
			return filepath.Join(dir, "l")
		}},
		{name: "with a trailing /", setup: func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "d"), 0o755) + "/" }},
		{name: "a file", setup: func(t *testing.T, dir string) string { return write(t, filepath.Join(dir, "f"), "", 0o644) },
			want: "is not a directory (a regular file)"},
		{name: "its directory writable by others", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "open", "d"), 0o755)
			mkdir(t, filepath.Join(dir, "open"), 0o777)
			return filepath.Join(dir, "open", "d")
		}, want: "open is writable by group or others"},
		{name: "/", setup: func(*testing.T, string) string { return "/" }},
	}, Dir)
}

// TestStateDir: the run directory and the outbox. Whoever could write
// there, or above, could plant a decision or a mail.
func TestStateDir(t *testing.T) {
	cases := []pathCase{
		{name: "0700", setup: func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "run"), 0o700) }},
		{name: "0755", setup: func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "run"), 0o755) }},
		{name: "writable by others", setup: func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "run"), 0o777) },
			want: "run is writable by group or others (mode 0777); fix: chmod go-w"},
		{name: "writable by its group", setup: func(t *testing.T, dir string) string { return mkdir(t, filepath.Join(dir, "run"), 0o770) },
			want: "chmod go-w"},
		{name: "sticky, writable by others", setup: func(t *testing.T, dir string) string {
			return mkdir(t, filepath.Join(dir, "run"), os.ModeSticky|0o777)
		}, want: "run is writable by group or others (mode 1777)"},
		{name: "a link to a good one", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "real"), 0o700)
			link(t, "real", filepath.Join(dir, "run"))
			return filepath.Join(dir, "run")
		}, want: "run is a symbolic link, not a directory"},
		{name: "a file", setup: func(t *testing.T, dir string) string { return write(t, filepath.Join(dir, "run"), "", 0o600) },
			want: "run is not a directory (a regular file)"},
		{name: "missing", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "run") },
			want: "no such file or directory"},
		{name: "the directory above writable by its group (the outbox's spool)", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "spool", "outbox"), 0o700)
			mkdir(t, filepath.Join(dir, "spool"), 0o775)
			return filepath.Join(dir, "spool", "outbox")
		}, want: "spool is writable by group or others (mode 0775)"},
		{name: "a sticky directory above", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "tmp", "run"), 0o700)
			mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			return filepath.Join(dir, "tmp", "run")
		}},
		{name: "a directory above that is a link made by its owner", setup: func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "var", "run"), 0o700)
			link(t, "var", filepath.Join(dir, "v"))
			return filepath.Join(dir, "v", "run")
		}},
	}
	if os.Geteuid() == 0 {
		cases = append(cases,
			pathCase{name: "another user's", setup: func(t *testing.T, dir string) string {
				d := mkdir(t, filepath.Join(dir, "run"), 0o700)
				chown(t, d)
				return d
			}, want: "run is owned by uid 65534, not root; fix: chown root"},
			pathCase{name: "the directory above another user's", setup: func(t *testing.T, dir string) string {
				d := mkdir(t, filepath.Join(dir, "theirs", "run"), 0o700)
				chown(t, filepath.Dir(d))
				return d
			}, want: "theirs is owned by uid 65534, not root"},
		)
	} else {
		t.Log("as a user, this process's uid stands for root's; the cases with another owner need root to chown")
	}
	runCases(t, cases, func(path string, _ ...Option) error { return StateDir(path) })
	// StateSubdir looks at the directory alone: the same answers for it
	for _, tt := range cases {
		if strings.Contains(tt.name, "above") {
			continue
		}
		t.Run("StateSubdir: "+tt.name, func(t *testing.T) {
			err := StateSubdir(tt.setup(t, t.TempDir()))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one with %q", err, tt.want)
			}
		})
	}
}

// TestSocket: a unix socket whose server decides logins (OPA's) must be
// root's, where nobody else could put theirs in its place.
func TestSocket(t *testing.T) {
	asRoot(t)
	runCases(t, []pathCase{
		{name: "root's", setup: func(t *testing.T, dir string) string { return listen(t, filepath.Join(dir, "s")) }},
		{name: "root's, mode 0777", setup: func(t *testing.T, dir string) string {
			p := listen(t, filepath.Join(dir, "s"))
			os.Chmod(p, 0o777)
			return p
		}},
		{name: "another user's", setup: func(t *testing.T, dir string) string {
			p := listen(t, filepath.Join(dir, "s"))
			chown(t, p)
			return p
		}, want: "s is owned by uid 65534, not root: a process of that user answers on it"},
		{name: "in a directory others may write", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "open"), 0o777)
			return listen(t, filepath.Join(d, "s"))
		}, want: "open is writable by group or others (mode 0777)"},
		{name: "in a sticky directory (/tmp)", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			return listen(t, filepath.Join(d, "s"))
		}},
		{name: "in a sticky directory in one others may write", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "open", "tmp"), os.ModeSticky|0o777)
			mkdir(t, filepath.Join(dir, "open"), 0o777)
			return listen(t, filepath.Join(d, "s"))
		}, want: "open is writable by group or others (mode 0777)"},
		{name: "in a sticky directory of another user", setup: func(t *testing.T, dir string) string {
			d := mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			chown(t, d)
			return listen(t, filepath.Join(d, "s"))
		}, want: "tmp is owned by uid 65534, not root"},
		{name: "a link to it, made by root", setup: func(t *testing.T, dir string) string {
			listen(t, filepath.Join(dir, "s"))
			link(t, "s", filepath.Join(dir, "l"))
			return filepath.Join(dir, "l")
		}},
		{name: "a link to root's socket planted in a sticky directory", setup: func(t *testing.T, dir string) string {
			listen(t, filepath.Join(dir, "s"))
			d := mkdir(t, filepath.Join(dir, "tmp"), os.ModeSticky|0o777)
			link(t, filepath.Join(dir, "s"), filepath.Join(d, "l"))
			return filepath.Join(d, "l")
		}, want: "tmp/l is a symbolic link in "},
		{name: "a file", setup: func(t *testing.T, dir string) string { return write(t, filepath.Join(dir, "s"), "", 0o644) },
			want: "s is not a socket (a regular file)"},
		{name: "missing", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "s") },
			want: "no such file or directory"},
	}, func(path string, _ ...Option) error { return Socket(path) })
}

func fifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// written is a FIFO with a reader and a writer: a read would wait for
// the writer to write or close.
func written(t *testing.T, path string) string {
	t.Helper()
	fifo(t, path)
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); r.Close() })
	return path
}

func listen(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return path
}

// BenchmarkStateDir is the check a login's call makes of the run
// directory and of each kind's subdirectory in it (on tmpfs, as /run).
func BenchmarkStateDir(b *testing.B) {
	base := "/dev/shm"
	if _, err := os.Stat(base); err != nil {
		base = b.TempDir()
	}
	dir, err := os.MkdirTemp(base, "trust-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	sub := filepath.Join(dir, "run", "decisions")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		b.Fatal(err)
	}
	for _, check := range []struct {
		name string
		f    func(string) error
	}{{"StateDir", StateDir}, {"StateSubdir", StateSubdir}} {
		b.Run(check.name, func(b *testing.B) {
			for b.Loop() {
				if err := check.f(sub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDependencies: what File looks at, for the rules' cache to watch:
// every directory opened and every link followed, the middle of a chain
// of links too, and a directory that is refused.
func TestDependencies(t *testing.T) {
	asRoot(t)
	dir := t.TempDir()
	mkdir(t, filepath.Join(dir, "hop"), 0o755)
	mkdir(t, filepath.Join(dir, "data"), 0o755)
	write(t, filepath.Join(dir, "data", "f.conf"), "x\n", 0o644)
	link(t, "../data/f.conf", filepath.Join(dir, "hop", "l2"))
	link(t, "hop/l2", filepath.Join(dir, "l1"))
	got := strings.Join(Dependencies(filepath.Join(dir, "l1")), " ")
	for _, want := range []string{"/", dir, filepath.Join(dir, "l1"), filepath.Join(dir, "hop"), filepath.Join(dir, "hop", "l2"),
		filepath.Join(dir, "data")} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("%s missing from %s", want, got)
		}
	}
	mkdir(t, filepath.Join(dir, "open", "x"), 0o755)
	mkdir(t, filepath.Join(dir, "open"), 0o777)
	if got := Dependencies(filepath.Join(dir, "open", "x", "f")); len(got) == 0 || got[len(got)-1] != filepath.Join(dir, "open") {
		t.Errorf("a refused directory: %v", got)
	}
}
