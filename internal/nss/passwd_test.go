package nss

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// The machine's own root: the whole entry, shell included.
func TestSystemRootPasswd(t *testing.T) {
	for _, byName := range []bool{true, false} {
		p, err := LookupUser("root", 0, byName)
		if err != nil || p.Name != "root" || p.UID != 0 || p.GID != 0 || p.Dir == "" || p.Shell == "" {
			t.Errorf("root (by name %v): %+v, %v", byName, p, err)
		}
	}
}

// TestPasswdWrapped runs TestFakePasswd with nss_wrapper over testdata/,
// through getpwnam_r and getpwuid_r as with LDAP or SSSD.
func TestPasswdWrapped(t *testing.T) {
	env := testenv.NSSWrapperEnv(t, "testdata/passwd", "testdata/group")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakePasswd$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, "PAMAC_IN_NSS_WRAPPER=1")...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFakePasswd") {
		t.Fatalf("TestFakePasswd under nss_wrapper: %v\n%s", err, out)
	}
}

func TestFakePasswd(t *testing.T) {
	if os.Getenv("PAMAC_IN_NSS_WRAPPER") != "1" {
		t.Skip("runs inside TestPasswdWrapped")
	}
	dave := Passwd{Name: "dave", Passwd: "*", UID: 1005, GID: 100, Gecos: "Dave Doe,Room 12,555-1234", Dir: "/home/dave", Shell: "/bin/zsh"}
	erin := Passwd{Name: "erin", Passwd: "x", UID: 1006, GID: 2001, Dir: "/home/erin"}
	tests := []struct {
		name   string
		uid    uint32
		byName bool
		want   Passwd
		err    error
	}{
		{name: "dave", byName: true, want: dave}, // GECOS whole, os/user stops at the comma
		{uid: 1005, want: dave},
		{name: "erin", byName: true, want: erin}, // empty GECOS and shell stay empty
		{uid: 1006, want: erin},
		{name: "nobody-here", byName: true, err: ErrNoUser},
		{uid: 4242, err: ErrNoUser},
		{name: "dave\x00x", byName: true, err: ErrNoUser}, // not "dave"
		{name: "", byName: true, err: ErrNoUser},
	}
	for _, tt := range tests {
		got, err := LookupUser(tt.name, tt.uid, tt.byName)
		if err != tt.err || got != tt.want {
			t.Errorf("LookupUser(%q, %d, %v) = %+v, %v; want %+v, %v", tt.name, tt.uid, tt.byName, got, err, tt.want, tt.err)
		}
	}
	for _, tt := range []struct {
		name, want string
		found      bool
	}{
		{"dave", "dave", true},
		{"nobody-here", "", false},
		{"dave\x00x", "", false},
	} {
		if got, found, err := (Users{}).UserName(tt.name); got != tt.want || found != tt.found || err != nil {
			t.Errorf("UserName(%q) = %q, %v, %v; want %q, %v", tt.name, got, found, err, tt.want, tt.found)
		}
	}
	if g, err := LookupGroup("lp", 0, true); err != nil || g.Passwd != "x" {
		t.Errorf("getgrnam lp: %+v %v", g, err)
	}
	if _, err := LookupGroup("lp\x00", 0, true); err != ErrNoGroup {
		t.Errorf("a group name with NUL: %v", err)
	}
}
