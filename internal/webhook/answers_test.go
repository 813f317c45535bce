package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestPostAnswers (README, "Webhooks"): the body is the event's JSON, the
// header X-Pam-Accesscontrol-Signature is "sha256=" and the hex
// HMAC-SHA256 of the body with the key, as a receiver computes it on its
// own; anything but a 2xx answer is an error, so the event is kept. A
// redirect is such an answer, not followed: the signed event goes to the
// configured URL only.
func TestPostAnswers(t *testing.T) {
	key, body := []byte("k3y"), []byte(`{"event":"decision","user":"alice"}`)
	m := hmac.New(sha256.New, key)
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	var elsewhere atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) })
	for _, code := range []int{200, 202, 204, 307, 308, 302, 404, 500} {
		mux.HandleFunc("/"+strconv.Itoa(code), func(w http.ResponseWriter, r *http.Request) {
			got, _ := io.ReadAll(r.Body)
			if sig := r.Header.Get("X-Pam-Accesscontrol-Signature"); sig != want || string(got) != string(body) {
				t.Errorf("received %q signed %q, want %q signed %q", got, sig, body, want)
			}
			if code/100 == 3 {
				http.Redirect(w, r, "/elsewhere", code)
				return
			}
			w.WriteHeader(code)
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, code := range []int{200, 202, 204, 307, 308, 302, 404, 500} {
		err := Post(srv.URL+"/"+strconv.Itoa(code), key, body, 2*time.Second)
		if ok := code/100 == 2; (err == nil) != ok {
			t.Errorf("HTTP %d: %v, want an error: %v", code, err, !ok)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("a redirect was followed %d times", n)
	}
}
