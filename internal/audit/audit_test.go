package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestAppendFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "audit.jsonl")
	id := NewLoginID()
	if len(id) != 16 || id == NewLoginID() {
		t.Fatalf("login ids %q", id)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			AppendFile(path, Event{Time: time.Now(), Kind: Decision, Login: id, User: "evil\n\"user\"", Verdict: "CLOSE"})
		}()
	}
	wg.Wait()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Login != id || e.User != "evil\n\"user\"" || e.Host == "" {
			t.Fatalf("line %d: %q, %v", n+1, sc.Text(), err)
		}
	}
	if n != 20 {
		t.Fatalf("%d lines, want 20", n)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
}
