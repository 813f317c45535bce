package nss

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// The real C library with the system's NSS: root exists everywhere and is
// in group root.
func TestSystemRoot(t *testing.T) {
	got, err := Groups{}.UserGroups("root")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0] != "root" {
		t.Fatalf("UserGroups(root) = %q, want the primary group root first", got)
	}
}

func TestSystemUnknownUser(t *testing.T) {
	_, err := Groups{}.UserGroups("no-such-user-pamac")
	if err == nil || !strings.Contains(err.Error(), "no such user") {
		t.Fatalf("err = %v, want no such user", err)
	}
}

// TestWrapped runs TestFakeUsers in a child process whose NSS is
// nss_wrapper over testdata/, so the lookups go through the same C calls
// (getpwnam_r, getgrouplist, getgrgid_r) as with LDAP or SSSD.
func TestWrapped(t *testing.T) {
	env := testenv.NSSWrapperEnv(t, "testdata/passwd", "testdata/group")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeUsers$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, "PAMAC_IN_NSS_WRAPPER=1")...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFakeUsers") {
		t.Fatalf("TestFakeUsers under nss_wrapper: %v\n%s", err, out)
	}
}

func TestFakeUsers(t *testing.T) {
	if os.Getenv("PAMAC_IN_NSS_WRAPPER") != "1" {
		t.Skip("runs inside TestWrapped")
	}
	tests := []struct {
		user    string
		want    []string // exact, in order
		wantErr string
	}{
		// big has 3,001 members: its entry needs a buffer grown several
		// times (nss_wrapper says so with -1 and ERANGE in errno)
		{user: "alice", want: []string{"alice", "users", "admins", "big"}},
		// primary group only through passwd's gid, plus a case-distinct name
		{user: "bob", want: []string{"users", "Admins"}},
		// a primary gid with no group entry has no name and is left out
		{user: "carol", want: []string{"admins", "lp"}},
		{user: "nobody-here", wantErr: "no such user"},
	}
	for _, tt := range tests {
		got, err := Groups{}.UserGroups(tt.user)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.user, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.user, err)
			continue
		}
		slices.Sort(got[1:]) // getgrouplist's order after the primary is NSS's
		want := append([]string{tt.want[0]}, slices.Sorted(slices.Values(tt.want[1:]))...)
		if !slices.Equal(got, want) {
			t.Errorf("%s: groups = %q, want %q", tt.user, got, want)
		}
	}
	if g, err := LookupGroup("admins", 0, true); err != nil || g.GID != 2001 || strings.Join(g.Members, ",") != "alice,carol" {
		t.Errorf("getgrnam admins: %+v %v", g, err)
	}
	if g, err := LookupGroup("", 7, false); err != nil || g.Name != "lp" {
		t.Errorf("getgrgid 7: %+v %v", g, err)
	}
	if _, err := LookupGroup("nope", 0, true); err != ErrNoGroup {
		t.Errorf("unknown group: %v", err)
	}
	// more groups than getgrouplist's first guess
	got, err := Groups{}.UserGroups("many")
	if err != nil || len(got) != 301 || got[0] != "users" || !slices.Contains(got, "g299") {
		t.Errorf("many: %d groups, err %v", len(got), err)
	}
}
