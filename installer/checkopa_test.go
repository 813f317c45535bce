package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
