package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer/localpeertest"
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

// TestPostLocalOwner: an endpoint on this host gets the event only when
// root holds its port; uid 65534 listening there while the receiver is
// down gets nothing, and the error (the deliverer keeps the event) says
// who holds it.
func TestPostLocalOwner(t *testing.T) {
	for _, tt := range []struct {
		uid  int
		want string
	}{{0, ""}, {65534, "held by uid 65534"}} {
		var got []string
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			got = append(got, string(body))
		}))
		srv.Listener.Close()
		srv.Listener = localpeertest.Listen(t, tt.uid, "tcp", "127.0.0.1:0")
		srv.Start()
		err := Post(srv.URL, []byte("k"), []byte(`{"event":"decision"}`), time.Second)
		srv.Close()
		switch {
		case tt.want == "" && (err != nil || len(got) != 1):
			t.Errorf("root's endpoint: %v, received %q", err, got)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || len(got) != 0):
			t.Errorf("uid %d's endpoint: %v, received %q", tt.uid, err, got)
		}
	}
}
