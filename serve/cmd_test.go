package serve

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  string
		ok   bool
	}{
		{nil, "", true},
		{[]string{"--listen", "[::1]:9000"}, "", true},
		{[]string{"--listen", "localhost:9000"}, "", true},
		{[]string{"--listen", "0.0.0.0:8443"}, "", false}, // plain HTTP off loopback
		{[]string{"--listen", "192.0.2.1:8443"}, "", false},
		{[]string{"--listen", "0.0.0.0:8443", "--tls-cert", "c", "--tls-key", "k"}, "", true},
		{[]string{"--tls-cert", "c"}, "", false},
		{nil, "0.0.0.0:1", false}, // from PAMAC_SERVE_LISTEN
		{[]string{"--listen", "127.0.0.1:1"}, "0.0.0.0:1", true},
		{[]string{"extra"}, "", false},
		{[]string{"--nss-cache-ttl", "0"}, "", true},
		{[]string{"--nss-cache-ttl", "-1s"}, "", false},
	} {
		t.Setenv("PAMAC_SERVE_LISTEN", tt.env)
		if tt.env == "" {
			t.Setenv("PAMAC_SERVE_LISTEN", "127.0.0.1:8443")
		}
		if _, err := parse(tt.args, io.Discard); (err == nil) != tt.ok {
			t.Errorf("%v (env %q): %v", tt.args, tt.env, err)
		}
	}
	if _, err := prefixes("10.0.0.0/8, ::1/128"); err != nil {
		t.Error(err)
	}
	if _, err := prefixes("10.0.0.0"); err == nil {
		t.Error("a bare address taken as a CIDR")
	}
}

func TestPAMServiceAndUsers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kubernetes"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"kubernetes": true, "web": false, "": false, "../" + filepath.Base(dir) + "/kubernetes": false} {
		if got := pamService(dir, name); got != want {
			t.Errorf("pamService(%q) = %v", name, got)
		}
	}
	if a, ok, err := (nssUsers{}).Lookup("root"); a != (Account{Name: "root", UID: "0"}) || !ok || err != nil {
		t.Errorf("root: %q %v %v", a, ok, err)
	}
	if _, ok, err := (nssUsers{}).Lookup("no-such-user-here"); ok || err != nil {
		t.Errorf("unknown user: %v %v", ok, err)
	}
}
