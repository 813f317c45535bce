package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPost(t *testing.T) {
	secret := []byte("s3cret")
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || !Verify(secret, body, r.Header.Get(SignatureHeader)) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		got = append(got, string(body))
	}))
	defer srv.Close()
	if err := Post(srv.URL, secret, []byte(`{"n":1}`), time.Second); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != `{"n":1}` {
		t.Fatalf("received %q", got)
	}
	// the receiver refuses a wrong key: an error, so the event is kept
	if err := Post(srv.URL, []byte("wrong"), []byte(`{"n":2}`), time.Second); err == nil || len(got) != 1 {
		t.Fatalf("a wrongly signed event: %v, received %q", err, got)
	}
	// a hanging endpoint costs at most the timeout
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * time.Second) }))
	defer hang.Close()
	start := time.Now()
	if err := Post(hang.URL, secret, []byte(`{}`), 300*time.Millisecond); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("hanging endpoint: %v after %v", err, time.Since(start))
	}
}

func TestVerify(t *testing.T) {
	k, body := []byte("k"), []byte("body")
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{Sign(k, body), true},
		{Sign([]byte("other"), body), false},
		{Sign(k, []byte("bodY")), false},
		{"", false},
		{"sha256=", false},
	} {
		if got := Verify(k, body, tc.header); got != tc.want {
			t.Errorf("Verify(%q) = %v", tc.header, got)
		}
	}
}
