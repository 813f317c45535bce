package pamscript

import (
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// TestResultMustBeAPAMCode: a handler must return an int from 0 to 31;
// False (which pam_python turns into success), True, None or an int out
// of range is PAM_SERVICE_ERR, as the README says.
func TestResultMustBeAPAMCode(t *testing.T) {
	for _, tt := range []struct {
		ret  string
		want int
	}{
		{"0", pamconst.Success},
		{"31", 31},
		{"pamh.PAM_AUTH_ERR", pamconst.AuthErr},
		{"False", pamconst.ServiceErr},
		{"True", pamconst.ServiceErr},
		{"None", pamconst.ServiceErr},
		{"32", pamconst.ServiceErr},
		{"-1", pamconst.ServiceErr},
		{"1 << 70", pamconst.ServiceErr},
		{`"0"`, pamconst.ServiceErr},
	} {
		path := filepath.Join(t.TempDir(), "r.py")
		writeFile(t, path, "def pam_sm_authenticate(pamh, flags, argv):\n    return "+tt.ret+"\n")
		code, _ := Run(Call{Path: path, Argv: []string{path}, Entry: "pam_sm_authenticate",
			PAM: &fakePAM{data: map[string]string{}}, Host: &starhost.Host{}})
		if code != tt.want {
			t.Errorf("return %s: %d, want %d", tt.ret, code, tt.want)
		}
	}
}
