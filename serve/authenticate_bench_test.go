package serve

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
)

// BenchmarkAuthenticate is POST /authenticate's handler with the real NSS
// (root, whom every host has): where a TokenReview's time goes, without
// HTTP (go test -bench Authenticate -cpuprofile), with NSS asked each
// time and with the user cache.
func BenchmarkAuthenticate(b *testing.B) {
	b.Run("nss", func(b *testing.B) { benchAuthenticate(b, 0) })
	b.Run("nss-cached", func(b *testing.B) { benchAuthenticate(b, 10*time.Second) })
}

func benchAuthenticate(b *testing.B, ttl time.Duration) {
	k := kubeIssuer(&testing.T{}, kubeKey, App, "k8s", time.Now())
	s := New(Config{Groups: nss.Groups{}, Users: nssUsers{}, Version: "bench", Tokens: k, NSSCacheTTL: ttl})
	tok, err := k.IssueFor("root", []string{"root"}, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	body := fmt.Sprintf(`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":%q,"audiences":["https://kubernetes.default.svc","k8s"]},"status":{"user":{}}}`, tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("POST", "/authenticate", strings.NewReader(body)))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"authenticated":true`) {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
