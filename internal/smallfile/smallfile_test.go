package smallfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("x"), 10000)
	for _, tt := range []struct {
		name    string
		content []byte
		limit   int
		wantErr string
	}{
		{name: "small", content: []byte("25005 (pamtester) S 24978"), limit: 4096},
		{name: "empty", content: nil, limit: 10},
		{name: "exactly the limit, over a buffer", content: big, limit: len(big)},
		{name: "one byte over", content: big, limit: len(big) - 1, wantErr: "larger than 9999 bytes"},
		{name: "far over", content: big, limit: 100, wantErr: "larger than 100 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Read(path, tt.limit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want one naming %s and %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.content) {
				t.Fatalf("Read = %d bytes, %v; want %d bytes", len(got), err, len(tt.content))
			}
		})
	}
	if _, err := Read(filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
	// /proc files say size 0: read to the end all the same
	if got, err := Read("/proc/self/stat", 4096); err != nil || !bytes.Contains(got, []byte(") ")) {
		t.Errorf("/proc/self/stat: %q, %v", got, err)
	}
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "record")
	if err := Create(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if err := Create(path, []byte("two"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("over an existing file: %v, want fs.ErrExist", err)
	}
	// a planted link is never written through
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Create(link, []byte("x"), 0o600); err == nil {
		t.Error("Create wrote through a symlink")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link's target was made: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "one" {
		t.Errorf("content %q, want %q", got, "one")
	}
}

func TestRename(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	if err := Create(log, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other")
	if err := Create(other, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Rename(other, log); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(log); string(got) != "new" {
		t.Errorf("after the rename %q, want %q", got, "new")
	}
	if err := Rename(other, log); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("renaming a gone file: %v", err)
	}
}
