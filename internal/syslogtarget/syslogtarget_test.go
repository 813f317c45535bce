package syslogtarget

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"udp://logs.example.org", "udp://logs.example.org:514", ""},
		{"tcp://10.0.0.1:1514", "tcp://10.0.0.1:1514", ""},
		{"tls://logs.example.org", "tls://logs.example.org:6514", ""},
		{"tls://[2001:db8::1]:6514", "tls://[2001:db8::1]:6514", ""},
		{"logs.example.org:514", "", "want udp://"},
		{"http://logs", "", "unknown transport"},
		{"udp://", "", "want udp://"},
		{"tcp://host:0", "", "bad port"},
		{"tcp://host:70000", "", "bad port"},
		{"tcp://host:514/path", "", "only a transport"},
		{"tcp://user@host", "", "only a transport"},
	} {
		got, err := Parse(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got.String() != tc.want):
			t.Errorf("Parse(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}
