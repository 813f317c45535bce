package starhost

import (
	"strings"
	"testing"
)

func TestPrepare(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"import syslog", "pass", ""},
		{"  import syslog, pwd  # for logging", "  pass", ""},
		{"import os.path as p", `p = __modules__["os.path"]`, ""},
		{"from syslog import syslog, LOG_INFO as INFO", `syslog = __modules__["syslog"].syslog; INFO = __modules__["syslog"].LOG_INFO`, ""},
		{"from time import (localtime)", `localtime = __modules__["time"].localtime`, ""},
		{"if x is None and y is not None:", "if x == None and y != None:", ""},
		{"if ok is True:", "if ok == True:", ""},
		{"import requests", "", `t.py:1: module "requests" is not available here`},
		{"from subprocess import call", "", `module "subprocess"`},
		{"from os import *", "", "import *` is not supported"},
	}
	for _, tt := range tests {
		got, err := prepare("t.py", []byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	// lines stay where they were
	src := "import syslog\n\nfrom pwd import getpwnam\nx = 1\n"
	got, _ := prepare("t.py", []byte(src))
	if strings.Count(string(got), "\n") != strings.Count(src, "\n") {
		t.Errorf("line count changed:\n%s", got)
	}
}
