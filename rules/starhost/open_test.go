package starhost

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// TestOpen plays whoever can write where an old script reads (/tmp): a
// FIFO, a directory, a device or a huge file in place of the file is an
// error at once, never a call that hangs (in the daemon, a thread
// stranded) or reads forever. A symbolic link to a regular file is
// followed, as an OPA pull does.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "motd")
	must(t, os.WriteFile(file, []byte("one\ntwo\n"), 0o644))
	link := filepath.Join(dir, "link")
	must(t, os.Symlink(file, link))
	fifo := filepath.Join(dir, "fifo")
	must(t, syscall.Mkfifo(fifo, 0o666))
	big := filepath.Join(dir, "big")
	must(t, os.WriteFile(big, make([]byte, maxOpen+1), 0o644))
	for _, tt := range []struct {
		name, path, expr string
		want             string // the repr, or "error: " and a part of the error
	}{
		{"a file", file, "open(p).read()", `"one\ntwo\n"`},
		{"readlines", file, `open(p, "r").readlines()`, `["one\n", "two\n"]`},
		{"a symbolic link to a file", link, "open(p).read()", `"one\ntwo\n"`},
		{"a FIFO", fifo, "open(p).read()", "error: IOError: open: " + fifo + " is not a regular file (a FIFO)"},
		{"a FIFO, caught", fifo, "catch(open, p).error.message", "is not a regular file (a FIFO)"},
		{"a directory", dir, "open(p).read()", "error: is not a regular file (a directory)"},
		{"/dev/zero", "/dev/zero", "open(p).read()", "error: /dev/zero is not a regular file (a character device)"},
		{"larger than 1 MiB", big, "open(p).read()", "error: larger than 1048576 bytes"},
		{"missing", filepath.Join(dir, "missing"), "open(p).read()", "error: no such file or directory"},
		{"for writing", file, `open(p, "w")`, "error: files are read-only here"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				v   starlark.Value
				err error
			}
			done := make(chan result, 1)
			go func() {
				var lines []logLine
				v, err := eval(t, host(&lines), "p = "+strconv.Quote(tt.path), tt.expr)
				done <- result{v, err}
			}()
			var got result
			select {
			case got = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s hangs", tt.expr)
			}
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if got.err == nil || !strings.Contains(got.err.Error(), want) {
					t.Fatalf("got %v, %v; want an error with %q", got.v, got.err, want)
				}
				return
			}
			if got.err != nil {
				t.Fatal(got.err)
			}
			if s, ok := got.v.(starlark.String); ok && !strings.HasPrefix(tt.want, `"`) {
				if !strings.Contains(string(s), tt.want) {
					t.Fatalf("got %s, want one with %q", s, tt.want)
				}
				return
			}
			if got.v.String() != tt.want {
				t.Fatalf("got %s, want %s", got.v, tt.want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
