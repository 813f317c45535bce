package checkconfig

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer/localpeertest"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func TestCheckOPASetup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the allowed pull file must be root's")
	}
	dir := t.TempDir()
	host := filepath.Join(dir, "host.json")
	os.WriteFile(host, []byte("{}"), 0o644)
	open := filepath.Join(dir, "open.json")
	os.WriteFile(open, []byte("{}"), 0o666)
	os.Chmod(open, 0o666)
	for _, tt := range []struct {
		conf string
		want []string // one problem each, in order; none when empty
	}{
		{"OPA_URL:http://127.0.0.1:8181\nOPA_AUTHZ:sshd/authz\nSSHD OPA GROUP ALL\n", nil},
		{"SSHD OPA GROUP ALL\n", []string{"r.conf:1: warning: OPA asks Open Policy Agent, but no OPA_URL is set",
			"r.conf:1: warning: OPA asks Open Policy Agent, but no OPA_AUTHZ"}},
		{"OPA_URL:http://127.0.0.1:8181\n", []string{"r.conf:1: warning: OPA_URL is set, but no rule has the option OPA"}},
		{"OPA_URL:unix:" + filepath.Join(dir, "no.sock") + "\nOPA_AUTHZ:a\nSSHD OPA GROUP ALL\n",
			[]string{"r.conf:1: warning: OPA_URL: OPA socket: lstat"}},
		{"OPA_URL:http://o:1\nOPA_AUTHZ:a\nOPA_PULL:p\nOPA_PULL_FILES:" + host + "," + open + "," + filepath.Join(dir, "gone.json") + "\nSSHD OPA USER ops\n",
			[]string{"r.conf:4: warning: OPA_PULL_FILES entry " + open + ": " + open + " is writable by group or others",
				"r.conf:4: warning: OPA_PULL_FILES entry " + filepath.Join(dir, "gone.json") + ": no such file or directory"}},
		{"OPA_URL:http://o:1\nOPA_AUTHZ:a\nOPA_PULL_FILES:" + host + "\nSSHD OPA USER ops\n",
			[]string{"r.conf:3: warning: OPA_PULL_FILES is set, but no OPA_PULL names the pull policy"}},
	} {
		cfg := rules.Parse("r.conf", []byte(tt.conf), rules.ParseOptions{})
		got := checkOPASetup(cfg)
		if len(got) != len(tt.want) {
			t.Errorf("%q: %d problems, want %d: %v", tt.conf, len(got), len(tt.want), got)
			continue
		}
		for i, p := range got {
			if !strings.HasPrefix(p.String(), tt.want[i]) {
				t.Errorf("%q: problem %q, want %q…", tt.conf, p, tt.want[i])
			}
		}
	}
}

// TestCheckLocalPorts: check-my-config warns when OPA_URL or a PIN's
// MAILSERVER is a port of this host that someone other than root holds:
// OPA would not be asked, no PIN mailed. Root's port, nothing listening
// and other hosts are no warning.
func TestCheckLocalPorts(t *testing.T) {
	nobody := localpeertest.Listen(t, 65534, "tcp", "127.0.0.1:0")
	root := localpeertest.Listen(t, 0, "tcp", "127.0.0.1:0")
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	free.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "r.conf")
	os.WriteFile(filepath.Join(dir, rules.LoginMailMappingFile), []byte("alice alice@example.org\n"), 0o644)
	for _, tt := range []struct {
		addr string
		want string
	}{
		{nobody.Addr().String(), "held by uid 65534"},
		{root.Addr().String(), ""},
		{free.Addr().String(), ""},
		{"192.0.2.1:8181", ""},
	} {
		opaConf := "OPA_URL:http://" + tt.addr + "\nOPA_AUTHZ:a\nSSHD OPA GROUP ALL\n"
		got := checkOPASetup(rules.Parse(conf, []byte(opaConf), rules.ParseOptions{}))
		pinConf := "MAILSERVER:" + tt.addr + "\nSSHD PIN USER alice\n"
		got = append(got, checkPinSetup(rules.Parse(conf, []byte(pinConf), rules.ParseOptions{}))...)
		if tt.want == "" {
			if len(got) != 0 {
				t.Errorf("%s: %v", tt.addr, got)
			}
			continue
		}
		if len(got) != 2 || !strings.Contains(got[0].String(), "r.conf:1: warning: OPA_URL: tcp "+tt.addr+" on this host is "+tt.want) ||
			!strings.Contains(got[1].String(), "PIN mails a PIN through MAILSERVER "+tt.addr+": tcp "+tt.addr+" on this host is "+tt.want) {
			t.Errorf("%s: %v", tt.addr, got)
		}
	}
}
