package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/webhook"
)

// TestWebhook: audit events reach an HTTP endpoint on 127.0.0.1, signed
// with the key from WEBHOOK_SECRET; an endpoint that hangs delays no login.
func TestWebhook(t *testing.T) {
	s := newPAMStack(t, "")
	key := filepath.Join(s.dir, "webhook.key")
	must(t, os.WriteFile(key, []byte("k3y\n"), 0o600))
	var mu sync.Mutex
	var events []audit.Event
	bad := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !webhook.Verify([]byte("k3y"), body, r.Header.Get(webhook.SignatureHeader)) {
			bad++
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var e audit.Event
		json.Unmarshal(body, &e)
		events = append(events, e)
	}))
	defer srv.Close()
	rules := "WEBHOOK:" + srv.URL + "/hook\nWEBHOOK_SECRET:" + key + "\nSSHD OPEN USER alice\n"
	must(t, os.WriteFile(s.rules, []byte(rules), 0o644))
	if _, code := s.pamtester(t, []string{"rhost=10.2.2.2"}, "sshd", "alice", "authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
		t.Fatal("refused")
	}
	for i := 0; ; i++ {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if i == 100 {
			t.Fatalf("%d events arrived, %d badly signed", n, bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	if events[0].Kind != "decision" || events[0].Verdict != "OPEN" || events[0].User != "alice" || events[0].RHost != "10.2.2.2" ||
		events[1].Login != events[0].Login || bad != 0 {
		t.Errorf("events %+v, %d badly signed", events, bad)
	}
	mu.Unlock()

	// an endpoint that hangs: the login is as quick as ever, and not denied
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(10 * time.Second) }))
	defer hang.Close()
	must(t, os.WriteFile(s.rules, []byte("WEBHOOK:"+hang.URL+"\nWEBHOOK_SECRET:"+key+"\nSSHD OPEN USER alice\n"), 0o644))
	mark := sink.Mark()
	start := time.Now()
	if _, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != 0 {
		t.Fatal("a hanging webhook denied the login")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the login took %v with a hanging webhook", d)
	}
	// the deliverer gives the request 5 s (the README's), then keeps the
	// event for the next try
	if !waitLine(mark, hang.URL, "kept for the next try") {
		t.Errorf("the deliverer did not give up on the hanging webhook: %q", sink.Since(mark))
	} else if d := time.Since(start); d < 4*time.Second || d > 8*time.Second {
		t.Errorf("the deliverer gave up on the hanging webhook after %v, want about 5 s", d)
	}
}
