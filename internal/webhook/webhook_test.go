package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

func TestDeliver(t *testing.T) {
	secret := []byte("s3cret")
	var mu sync.Mutex
	var got []string
	fail := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if fail || !Verify(secret, body, r.Header.Get(SignatureHeader)) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		got = append(got, string(body))
	}))
	defer srv.Close()
	dir := t.TempDir()
	for _, e := range []string{`{"n":1}`, `{"n":2}`} {
		if err := Enqueue(dir, []byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := Deliver(dir, srv.URL, secret, time.Second); n != 2 || err != nil {
		t.Fatalf("sent %d, %v", n, err)
	}
	if len(got) != 2 || got[0] != `{"n":1}` || got[1] != `{"n":2}` {
		t.Fatalf("received %q", got)
	}
	// a failing endpoint keeps the event for later; a wrong secret is refused
	mu.Lock()
	fail = true
	mu.Unlock()
	Enqueue(dir, []byte(`{"n":3}`))
	if n, err := Deliver(dir, srv.URL, secret, time.Second); n != 0 || err == nil {
		t.Fatalf("sent %d, %v", n, err)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if n, _ := Deliver(dir, srv.URL, []byte("wrong"), time.Second); n != 0 {
		t.Fatal("a wrongly signed event was accepted")
	}
	if n, err := Deliver(dir, srv.URL, secret, time.Second); n != 1 || err != nil {
		t.Fatalf("retry: sent %d, %v", n, err)
	}
	// a hanging endpoint costs at most the timeout
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * time.Second) }))
	defer hang.Close()
	Enqueue(dir, []byte(`{"n":4}`))
	start := time.Now()
	if _, err := Deliver(dir, hang.URL, secret, 300*time.Millisecond); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("hanging endpoint: %v after %v", err, time.Since(start))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // the event and the lock
		t.Errorf("spool %d entries", len(entries))
	}
}
