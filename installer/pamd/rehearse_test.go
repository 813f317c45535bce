package pamd

import (
	"strings"
	"testing"
)

func TestRehearse(t *testing.T) {
	inc := files{
		"password-auth": "auth required pam_env.so\nauth sufficient pam_unix.so nullok\n-auth [success=1 default=ignore] pam_sss.so\naccount include common\n",
		"common":        "account required pam_unix.so\n",
	}
	svc := "#%PAM-1.0\nauth\trequired\tpam_accesscontrol.so\nauth substack password-auth\naccount required pam_accesscontrol.so conf=/x\naccount include password-auth\npassword include password-auth\n"
	r, err := Rehearse("sshd", []byte(svc), inc.resolve, "/d", "/build/pam_accesscontrol.so", "helper=/h", "conf=/c")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sshd": "#%PAM-1.0\nauth\trequired\t/build/pam_accesscontrol.so helper=/h conf=/c\nauth substack /d/password-auth\n" +
			"account required /build/pam_accesscontrol.so conf=/x helper=/h conf=/c\naccount include /d/password-auth\npassword include /d/password-auth\n",
		"password-auth": "auth required pam_permit.so\nauth sufficient pam_permit.so\n-auth [success=1 default=ignore] pam_permit.so\naccount include /d/common\n",
		"common":        "account required pam_permit.so\n",
	}
	if len(r.Files) != len(want) {
		t.Fatalf("files %v", r.Files)
	}
	for name, text := range want {
		if got := string(r.Files[name]); got != text {
			t.Errorf("%s:\n got %q\nwant %q", name, got, text)
		}
	}
	if strings.Join(r.Types, ",") != "auth,account" {
		t.Errorf("types %v", r.Types)
	}
	if _, err := Rehearse("sshd", []byte("auth include missing\n"), inc.resolve, "/d", ""); err == nil {
		t.Error("a missing include was rehearsed")
	}
	if _, err := Rehearse("sshd", []byte("auth include ../etc/x\n"), inc.resolve, "/d", ""); err == nil {
		t.Error("an include outside the PAM directory was rehearsed")
	}
	loop := files{"a": "auth include b\n", "b": "auth include a\n"}
	if _, err := Rehearse("a", []byte(loop["a"]), loop.resolve, "/d", ""); err != nil {
		t.Errorf("a loop: %v (libpam refuses it; the rehearsal just copies each file once)", err)
	}
}
