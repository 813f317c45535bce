package serve

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tt := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.7:1234", nil, "192.0.2.7"},
		{"192.0.2.7:1234", []string{"203.0.113.9"}, "192.0.2.7"}, // not a proxy: its header is ignored
		{"10.1.1.1:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"10.1.1.1:80", []string{"6.6.6.6, 203.0.113.9, 10.2.2.2"}, "203.0.113.9"}, // the client's own XFF entry is not believed
		{"10.1.1.1:80", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9"},
		{"10.1.1.1:80", []string{"junk, 203.0.113.9"}, "203.0.113.9"},
		{"10.1.1.1:80", []string{"203.0.113.9, junk"}, "10.1.1.1"},
		{"10.1.1.1:80", nil, "10.1.1.1"},
		{"[::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"[::ffff:192.0.2.7]:1", nil, "192.0.2.7"},
	} {
		r := httptest.NewRequest("POST", "/auth", nil)
		r.RemoteAddr = tt.remote
		for _, h := range tt.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := clientAddr(r, proxies); got != tt.want {
			t.Errorf("%s %v: %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}
