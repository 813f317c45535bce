package pamd

import (
	"strings"
	"testing"
)

func TestMigratePython(t *testing.T) {
	orig := "auth\trequired\tpam_python.so /usr/lib/security/otp.py digits=6\n" +
		"account [default=bad success=ok] /lib/security/pam_python.so ldap.py host=127.0.0.1 # a comment\n" +
		"session required pam_python.so accesscontrol.py\n" +
		"auth optional pam_pythonx.so a.py\n"
	got, err := MigratePython([]byte(orig), "/usr/bin/python3")
	want := "auth\trequired\tpam_accesscontrol.so interpreter=/usr/bin/python3 /usr/lib/security/otp.py digits=6\n" +
		"account [default=bad success=ok] pam_accesscontrol.so interpreter=/usr/bin/python3 ldap.py host=127.0.0.1 # a comment\n" +
		"session required pam_python.so accesscontrol.py\n" +
		"auth optional pam_pythonx.so a.py\n"
	if err != nil || string(got) != want {
		t.Fatalf("\n got %q, %v\nwant %q", got, err, want)
	}
	// script lines are not rule lines: the rule lines are still added
	if c := Configured(got); len(c) != 0 {
		t.Errorf("script lines counted as configured: %v", c)
	}
	conf, err := Configure("svc", got, files{}.resolve)
	if err != nil || strings.Count(string(conf), "\trequired\tpam_accesscontrol.so\n") != 3 {
		t.Errorf("configure after migrating: %q, %v", conf, err)
	}
	// clean gives back the bytes (a module named by path comes back by
	// name; the original's accesscontrol.py line became a rule line, and
	// goes, as pam-configure has always done)
	back := strings.Replace(orig, "/lib/security/pam_python.so", "pam_python.so", 1)
	back = strings.Replace(back, "session required pam_python.so accesscontrol.py\n", "", 1)
	if c := string(Clean(conf)); c != back {
		t.Errorf("clean:\n got %q\nwant %q", c, back)
	}
	if _, err := MigratePython([]byte("auth required pam_python.so otp digits=6\n"), "/usr/bin/python3"); err == nil ||
		!strings.Contains(err.Error(), "/lib/security/otp") {
		t.Errorf("a script name the module would take for an option: %v", err)
	}
}

func TestRuleLine(t *testing.T) {
	for _, tt := range []struct {
		line string
		rule bool
	}{
		{"auth required pam_accesscontrol.so", true},
		{"auth required /lib/x/security/pam_accesscontrol.so conf=/x debug # note", true},
		{"auth required pam_accesscontrol.so interpreter=/usr/bin/python3 otp.py", false},
		{"auth required pam_accesscontrol.so /etc/security/x.star arg", false},
		{"auth required pam_accesscontrolx.so", false},
	} {
		if _, ok := ruleLine(tt.line); ok != tt.rule {
			t.Errorf("%q: rule line %v", tt.line, ok)
		}
	}
}
