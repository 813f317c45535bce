package pamd

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestRealServiceFiles: Debian 12's files for sshd, login and the display
// managers get our three lines where their stacks run them, configuring
// twice is configuring once, and cleaning gives the file back byte for byte.
func TestRealServiceFiles(t *testing.T) {
	for _, name := range []string{"sshd", "login", "gdm-password", "sddm", "lightdm"} {
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			conf := Configure(orig)
			for _, typ := range Types {
				if n := strings.Count(string(conf), Line(typ)+"\n"); n != 1 {
					t.Errorf("%s line %d times", typ, n)
				}
				// right after the type's common include
				if !strings.Contains(string(conf), "@include common-"+typ+"\n"+Line(typ)+"\n") {
					t.Errorf("%s line not right after @include common-%s:\n%s", typ, typ, conf)
				}
			}
			if again := Configure(conf); !bytes.Equal(again, conf) {
				t.Errorf("configuring twice changed the file:\n%s", again)
			}
			if back := Clean(conf); !bytes.Equal(back, orig) {
				t.Errorf("clean did not give the original back:\n%s", back)
			}
			if !Configured(conf)["session"] || Configured(orig)["auth"] {
				t.Error("Configured")
			}
		})
	}
}

func TestPlacement(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no includes: after the type's last line",
			"auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_unix.so\n",
			"auth required pam_unix.so\nauth\trequired\tpam_accesscontrol.so\naccount required pam_unix.so\naccount\trequired\tpam_accesscontrol.so\nsession required pam_unix.so\nsession\trequired\tpam_accesscontrol.so\n"},
		{"a type the file lacks: at the end",
			"auth required pam_unix.so",
			"auth required pam_unix.so\nauth\trequired\tpam_accesscontrol.so\naccount\trequired\tpam_accesscontrol.so\nsession\trequired\tpam_accesscontrol.so\n"},
		{"the Python original's lines, replaced in place",
			"auth required pam_unix.so\n#PAM-ACCESSCONTROL configuration\nauth        required     pam_python.so accesscontrol.py\nsession     required     pam_python.so accesscontrol.py\n",
			"auth required pam_unix.so\nauth\trequired\tpam_accesscontrol.so\naccount\trequired\tpam_accesscontrol.so\nsession\trequired\tpam_accesscontrol.so\n"},
		{"ours by absolute path counts as configured",
			"auth required /lib/x86_64-linux-gnu/security/pam_accesscontrol.so conf=/x\naccount required pam_unix.so\n",
			"auth required /lib/x86_64-linux-gnu/security/pam_accesscontrol.so conf=/x\naccount required pam_unix.so\naccount\trequired\tpam_accesscontrol.so\nsession\trequired\tpam_accesscontrol.so\n"},
	}
	for _, tt := range tests {
		if got := string(Configure([]byte(tt.in))); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	// Clean leaves lookalikes alone
	keep := "auth required pam_accesscontrolx.so\n# auth required pam_accesscontrol.so\n"
	if got := string(Clean([]byte(keep + "account required pam_accesscontrol.so\n"))); got != keep {
		t.Errorf("Clean: %q", got)
	}
}
