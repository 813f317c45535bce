package pamscript

import (
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// failingPAM fails pam_get_user with its code.
type failingPAM struct {
	fakePAM
	code int
}

func (f *failingPAM) GetUser(string, bool) (string, error) {
	return "", &PAMError{Code: f.code, Op: "get_user"}
}

// TestCatchPAMError: the sandbox's catch() knows a failed libpam call by
// starhost.PAMFailure alone, and reports its code as .pam_result, as
// pamh.exception does; a code that would pass for success is never
// reported as one.
func TestCatchPAMError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catch.py")
	writeFile(t, path, `def pam_sm_authenticate(pamh, flags, argv):
    c = catch(pamh.get_user)
    if c.error == None or c.error.kind != argv[1]:
        return pamh.PAM_INCOMPLETE
    return c.error.pam_result
`)
	for _, tt := range []struct {
		code, want int
		kind       string
	}{
		{pamconst.AuthErr, pamconst.AuthErr, "pam"},
		{pamconst.ConvErr, pamconst.ConvErr, "pam"},
		{pamconst.Success, pamconst.ServiceErr, "error"},
		{pamconst.Ignore, pamconst.ServiceErr, "error"},
	} {
		pam := &failingPAM{fakePAM{data: map[string]string{}}, tt.code}
		code, err := Run(Call{Path: path, Argv: []string{path, tt.kind}, Entry: "pam_sm_authenticate", PAM: pam, Host: &starhost.Host{}})
		if err != nil || code != tt.want {
			t.Errorf("get_user failing with %d: %d, %v; want %d (kind %s)", tt.code, code, err, tt.want, tt.kind)
		}
	}
}
