package pamd

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// debian resolves includes from Debian 12's files.
var debian = Tree{PamDir: "testdata/distros/debian12"}.Resolver()

// files is a Resolver of file texts by name.
type files map[string]string

func (f files) resolve(name string) ([]byte, error) {
	if t, ok := f[name]; ok {
		return []byte(t), nil
	}
	return nil, os.ErrNotExist
}

// TestRealServiceFiles: Debian 12's files for sshd, login and the display
// managers get our three lines where their stacks run them, configuring
// twice is configuring once, and cleaning gives the file back byte for byte.
func TestRealServiceFiles(t *testing.T) {
	for _, name := range []string{"sshd", "login", "gdm-password", "sddm", "lightdm"} {
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile("testdata/distros/debian12/" + name)
			if err != nil {
				t.Fatal(err)
			}
			conf, err := Configure(name, orig, debian)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range Types {
				if n := strings.Count(string(conf), Line(typ)+"\n"); n != 1 {
					t.Errorf("%s line %d times", typ, n)
				}
				// right after the type's common include, but account before
				// it: common-account ends the stack when pam_unix says
				// new_authtok_reqd (an expired password), which sshd lets in
				// after a password change
				want := "@include common-" + typ + "\n" + Line(typ) + "\n"
				if typ == "account" {
					want = Line(typ) + "\n@include common-" + typ + "\n"
				}
				if !strings.Contains(string(conf), want) {
					t.Errorf("%s line not where expected (%q):\n%s", typ, want, conf)
				}
			}
			if again, _ := Configure(name, conf, debian); !bytes.Equal(again, conf) {
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
		got, err := Configure("x", []byte(tt.in), files{}.resolve)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s:\n got %q, %v\nwant %q", tt.name, got, err, tt.want)
		}
	}
	// Clean leaves lookalikes alone
	keep := "auth required pam_accesscontrolx.so\n# auth required pam_accesscontrol.so\n"
	if got := string(Clean([]byte(keep + "account required pam_accesscontrol.so\n"))); got != keep {
		t.Errorf("Clean: %q", got)
	}
}

// TestPlacementBeforeWhatCanEndTheStack: a line after a module that may
// end the stack with success (sufficient, binding, done), after a jump
// that may skip it, or after an include of a file with such a module,
// would not run on every path: ours goes above it.
func TestPlacementBeforeWhatCanEndTheStack(t *testing.T) {
	inc := files{
		"password-auth": "auth required pam_env.so\nauth sufficient pam_unix.so\nauth required pam_deny.so\n" +
			"account required pam_unix.so\naccount sufficient pam_localuser.so\naccount required pam_permit.so\n" +
			"session optional pam_keyinit.so\nsession [success=1 default=ignore] pam_succeed_if.so service in crond\nsession required pam_unix.so\n",
		"postlogin":  "session optional pam_umask.so\nsession [success=1 default=ignore] pam_succeed_if.so quiet\nsession [default=1] pam_lastlog.so\nsession optional pam_lastlog.so silent\n",
		"jumps-out":  "session [success=2 default=ignore] pam_x.so\n",
		"jumps-far":  "session [success=3 default=ignore] pam_x.so\n",
		"nest":       "auth include password-auth\n",
		"loop":       "auth include loop\n",
		"common-all": "auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\nauth required pam_permit.so\n",
	}
	const (
		A = "auth\trequired\tpam_accesscontrol.so\n"
		C = "account\trequired\tpam_accesscontrol.so\n"
		S = "session\trequired\tpam_accesscontrol.so\n"
	)
	tests := []struct{ name, in, want string }{
		{"RHEL sshd: account before the include with a sufficient; auth after a substack; session after includes whose jumps stay inside",
			"auth substack password-auth\naccount required pam_nologin.so\naccount include password-auth\nsession include password-auth\nsession include postlogin\n",
			"auth substack password-auth\n" + A + "account required pam_nologin.so\n" + C + "account include password-auth\nsession include password-auth\nsession include postlogin\n" + S},
		{"su: before pam_rootok",
			"#%PAM-1.0\nauth sufficient pam_rootok.so\nauth substack password-auth\naccount sufficient pam_succeed_if.so uid = 0 use_uid quiet\naccount include password-auth\nsession include password-auth\n",
			"#%PAM-1.0\n" + A + "auth sufficient pam_rootok.so\nauth substack password-auth\n" + C + "account sufficient pam_succeed_if.so uid = 0 use_uid quiet\naccount include password-auth\nsession include password-auth\n" + S},
		{"sudo: before an include whose file has a sufficient, through a nested include",
			"auth include nest\naccount include password-auth\nsession required pam_limits.so\n",
			A + "auth include nest\n" + C + "account include password-auth\nsession required pam_limits.so\n" + S},
		{"binding and [default=done] end it too",
			"auth binding pam_x.so\naccount [success=done default=ignore] pam_y.so\nsession required pam_z.so\n",
			A + "auth binding pam_x.so\n" + C + "account [success=done default=ignore] pam_y.so\nsession required pam_z.so\n" + S},
		{"a jump over the line's place: above the jump, never inside its range",
			"auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\naccount required pam_unix.so\nsession required pam_unix.so\n",
			"auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n" + A + "account required pam_unix.so\n" + C + "session required pam_unix.so\n" + S},
		{"a jump out of an included file that lands on our line",
			"auth required pam_unix.so\naccount required pam_unix.so\nsession include jumps-out\nsession required pam_a.so\nsession required pam_b.so\n",
			"auth required pam_unix.so\n" + A + "account required pam_unix.so\n" + C + "session include jumps-out\nsession required pam_a.so\nsession required pam_b.so\n" + S},
		{"a jump out of an included file over our line's place",
			"auth required pam_unix.so\naccount required pam_unix.so\nsession include jumps-far\nsession required pam_a.so\nsession required pam_b.so\n",
			"auth required pam_unix.so\n" + A + "account required pam_unix.so\n" + C + S + "session include jumps-far\nsession required pam_a.so\nsession required pam_b.so\n"},
		{"Debian's @include whose jump stays inside: after it",
			"@include common-all\naccount required pam_unix.so\nsession required pam_unix.so\n",
			"@include common-all\n" + A + "account required pam_unix.so\n" + C + "session required pam_unix.so\n" + S},
		{"an include that cannot be read may end the stack",
			"auth include missing\naccount required pam_unix.so\nsession required pam_unix.so\n",
			A + "auth include missing\naccount required pam_unix.so\n" + C + "session required pam_unix.so\n" + S},
		{"an unknown control may end it",
			"auth weird pam_x.so\naccount required pam_unix.so\nsession required pam_unix.so\n",
			A + "auth weird pam_x.so\naccount required pam_unix.so\n" + C + "session required pam_unix.so\n" + S},
		{"requisite, [default=die] and optional end nothing early with success",
			"auth requisite pam_a.so\nauth [success=ok default=die] pam_b.so\nauth optional pam_c.so\naccount required pam_unix.so\nsession required pam_unix.so\n",
			"auth requisite pam_a.so\nauth [success=ok default=die] pam_b.so\nauth optional pam_c.so\n" + A + "account required pam_unix.so\n" + C + "session required pam_unix.so\n" + S},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Configure("svc", []byte(tt.in), inc.resolve)
			if err != nil || string(got) != tt.want {
				t.Fatalf("\n got %q, %v\nwant %q", got, err, tt.want)
			}
			if p, err := Skippable("svc", got, inc.resolve); err != nil || len(p) != 0 {
				t.Errorf("skippable: %v, %v", p, err)
			}
			if back := Clean(got); string(back) != tt.in {
				t.Errorf("clean: %q", back)
			}
		})
	}
	if _, err := Configure("svc", []byte("auth include loop\n"), inc.resolve); err == nil || !strings.Contains(err.Error(), "includes itself") {
		t.Errorf("an include loop: %v", err)
	}
}

// TestExistingLinesThatCanBeSkipped: a line of ours (or the original's,
// replaced in place) that a stack can skip is moved when it is exactly
// ours, and reported when an admin changed it, never left as if it
// protected anything.
func TestExistingLinesThatCanBeSkipped(t *testing.T) {
	inc := files{"system-auth": "account required pam_unix.so\naccount sufficient pam_localuser.so\n"}
	const want = "auth required pam_accesscontrol.so\naccount\trequired\tpam_accesscontrol.so\naccount include system-auth\nsession required pam_accesscontrol.so\n"
	for _, in := range []string{
		"auth required pam_accesscontrol.so\naccount include system-auth\naccount\trequired\tpam_accesscontrol.so\nsession required pam_accesscontrol.so\n",
		"auth required pam_accesscontrol.so\naccount include system-auth\naccount required pam_python.so accesscontrol.py\nsession required pam_accesscontrol.so\n",
	} {
		got, err := Configure("sshd", []byte(in), inc.resolve)
		if err != nil || string(got) != want {
			t.Errorf("%q:\n got %q, %v\nwant %q", in, got, err, want)
		}
	}
	changed := "auth required pam_accesscontrol.so\naccount include system-auth\naccount required pam_accesscontrol.so debug\nsession required pam_accesscontrol.so\n"
	_, err := Configure("sshd", []byte(changed), inc.resolve)
	var skip *SkipError
	if !errors.As(err, &skip) || skip.Line != 3 || skip.ByWhere != "system-auth:2" || !strings.Contains(skip.By, "pam_localuser") {
		t.Errorf("an admin's line that can be skipped: %v", err)
	}
	p, err := Skippable("sshd", []byte(changed), inc.resolve)
	if err != nil || len(p) != 1 || p[0].Line != 3 {
		t.Errorf("Skippable: %v %v", p, err)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		in   string
		want entry
		ok   bool
	}{
		{"auth\trequired\tpam_unix.so nullok", entry{"auth", "required", "pam_unix.so"}, true},
		{"-session   optional pam_systemd.so", entry{"session", "optional", "pam_systemd.so"}, true},
		{"auth [success=1 default=ignore]\tpam_unix.so", entry{"auth", "[success=1 default=ignore]", "pam_unix.so"}, true},
		{"Auth Sufficient pam_rootok.so # root", entry{"auth", "sufficient", "pam_rootok.so"}, true},
		{"@include common-auth", entry{"", "@include", "common-auth"}, true},
		{"account include\tpassword-auth", entry{"account", "include", "password-auth"}, true},
		{"  # a comment", entry{}, false},
		{"", entry{}, false},
	}
	for _, tt := range tests {
		got, ok := parseLine(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%q: %+v %v", tt.in, got, ok)
		}
	}
}

// TestVendorDirectory: what /etc/pam.d does not override is read from
// /usr/lib/pam.d (openSUSE, Fedora's polkit-1) when following includes; a
// service that lives only there is not edited in place but named with the
// command that makes it the admin's.
func TestVendorDirectory(t *testing.T) {
	root := t.TempDir()
	for dir, names := range map[string][]string{"etc/pam.d": {"sshd"}, "usr/lib/pam.d": {"common-auth", "polkit-1"}} {
		if err := os.MkdirAll(root+"/"+dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(root+"/"+dir+"/"+n, []byte("auth sufficient pam_"+n+".so\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tree := Tree{Root: root}
	got, err := Configure("sshd", []byte("auth include common-auth\naccount required pam_unix.so\nsession required pam_unix.so\n"), tree.Resolver())
	if err != nil || !strings.HasPrefix(string(got), Line("auth")+"\nauth include common-auth\n") {
		t.Errorf("the vendor common-auth's sufficient was not seen: %q, %v", got, err)
	}
	if _, err := tree.Read("polkit-1"); err == nil || !strings.Contains(err.Error(), "cp "+root+"/usr/lib/pam.d/polkit-1 "+root+"/etc/pam.d/polkit-1") {
		t.Errorf("a vendor-only service: %v", err)
	}
}
