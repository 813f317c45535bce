package main

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPinLimit(t *testing.T) {
	l := newPinLimit(t.TempDir())
	now := time.Now()
	for i := 0; i < pinsPerWindow; i++ {
		done, err := l.take("alice", now)
		if err != nil {
			t.Fatalf("PIN %d: %v", i+1, err)
		}
		done(true)
	}
	if _, err := l.take("alice", now); err == nil || !strings.Contains(err.Error(), "5 PINs were mailed") {
		t.Fatalf("PIN 6: %v", err)
	}
	// other users are not affected; a PIN that was not mailed does not count
	done, err := l.take("bob", now)
	if err != nil {
		t.Fatal(err)
	}
	done(false)
	for i := 0; i < pinsPerWindow; i++ {
		done, err := l.take("bob", now)
		if err != nil {
			t.Fatalf("bob %d: %v", i, err)
		}
		done(true)
	}
	// after the window, alice may have PINs again
	if done, err := l.take("alice", now.Add(pinWindow)); err != nil {
		t.Fatalf("after the window: %v", err)
	} else {
		done(true)
	}
	// odd names are files of their own
	for _, name := range []string{"../x", ".", "a/b"} {
		done, err := l.take(name, now)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		done(true)
	}
}

// Concurrent logins cannot all pass the check before any counts.
func TestPinLimitConcurrent(t *testing.T) {
	l := newPinLimit(t.TempDir())
	var wg sync.WaitGroup
	var mu sync.Mutex
	mailed := 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := l.take("carol", time.Now())
			if err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond) // the mail goes out
			done(true)
			mu.Lock()
			mailed++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if mailed != pinsPerWindow {
		t.Errorf("%d PINs mailed, want %d", mailed, pinsPerWindow)
	}
}
