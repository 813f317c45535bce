package opa

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestNoProxy (README, "Safer than pam_authz"): OPA is asked directly,
// never through a proxy the environment names (HTTP_PROXY, as an sshd
// started with one would pass on): such a proxy would decide every OPA
// rule. Here the proxy would answer allow; the client goes to the name
// itself, which does not resolve, and fails.
func TestNoProxy(t *testing.T) {
	var asked atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		fmt.Fprint(w, `{"result":{"allow":true}}`)
	}))
	defer proxy.Close()
	for _, v := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"} {
		t.Setenv(v, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	c, err := NewClient(rules.OPASettings{URL: "http://opa.invalid:8181", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Query(context.Background(), "sshd/authz", map[string]any{"x": 1})
	if err == nil || asked.Load() != 0 {
		t.Errorf("got %s, %v; the proxy was asked %d times: want an error and no request to the proxy", res, err, asked.Load())
	}
}
