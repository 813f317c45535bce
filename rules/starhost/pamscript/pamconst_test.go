package pamscript

import (
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
)

// pamPythonNames are the constants pam_python 1.0.x puts on pamh
// (docs/pam_python.md, "Constants"): scripts written for it use them.
const pamPythonNames = `HAVE_PAM_FAIL_DELAY PAM_ABORT PAM_ACCT_EXPIRED PAM_AUTHINFO_UNAVAIL PAM_AUTHTOK
PAM_AUTHTOK_DISABLE_AGING PAM_AUTHTOK_ERR PAM_AUTHTOK_EXPIRED PAM_AUTHTOK_LOCK_BUSY PAM_AUTHTOK_RECOVERY_ERR
PAM_AUTHTOK_RECOVER_ERR PAM_AUTHTOK_TYPE PAM_AUTH_ERR PAM_BAD_ITEM PAM_BINARY_PROMPT PAM_BUF_ERR
PAM_CHANGE_EXPIRED_AUTHTOK PAM_CONV PAM_CONV_AGAIN PAM_CONV_ERR PAM_CRED_ERR PAM_CRED_EXPIRED
PAM_CRED_INSUFFICIENT PAM_CRED_UNAVAIL PAM_DATA_REPLACE PAM_DATA_SILENT PAM_DELETE_CRED
PAM_DISALLOW_NULL_AUTHTOK PAM_ERROR_MSG PAM_ESTABLISH_CRED PAM_FAIL_DELAY PAM_IGNORE PAM_INCOMPLETE
PAM_MAXTRIES PAM_MAX_MSG_SIZE PAM_MAX_NUM_MSG PAM_MAX_RESP_SIZE PAM_MODULE_UNKNOWN PAM_NEW_AUTHTOK_REQD
PAM_NO_MODULE_DATA PAM_OLDAUTHTOK PAM_OPEN_ERR PAM_PERM_DENIED PAM_PRELIM_CHECK PAM_PROMPT_ECHO_OFF
PAM_PROMPT_ECHO_ON PAM_RADIO_TYPE PAM_REFRESH_CRED PAM_REINITIALIZE_CRED PAM_RHOST PAM_RUSER PAM_SERVICE
PAM_SERVICE_ERR PAM_SESSION_ERR PAM_SILENT PAM_SUCCESS PAM_SYMBOL_ERR PAM_SYSTEM_ERR PAM_TEXT_INFO
PAM_TRY_AGAIN PAM_TTY PAM_UPDATE_AUTHTOK PAM_USER PAM_USER_PROMPT PAM_USER_UNKNOWN PAM_XAUTHDATA
PAM_XDISPLAY _PAM_RETURN_VALUES`

// TestPamhConstants checks that pamh carries exactly pam_python's names,
// read-only, with internal/pamconst's values (which its tests compare with
// the C headers).
func TestPamhConstants(t *testing.T) {
	want := strings.Fields(pamPythonNames)
	var got []string
	for n := range pamConstants {
		got = append(got, n)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("pamh's constants:\n got %v\nwant %v", got, want)
	}
	h := NewPamh(nil)
	attrs := h.AttrNames()
	for _, c := range pamconst.All() {
		v, err := h.Attr(c.Name)
		if err != nil || v == nil {
			t.Errorf("pamh.%s = %v, %v", c.Name, v, err)
			continue
		}
		if n, err := starlark.AsInt32(v); err != nil || n != c.Value {
			t.Errorf("pamh.%s = %v, want %d", c.Name, v, c.Value)
		}
		if !slices.Contains(attrs, c.Name) {
			t.Errorf("dir(pamh) lacks %s", c.Name)
		}
		if err := h.SetField(c.Name, starlark.MakeInt(1)); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("pamh.%s = 1: err = %v, want not writable", c.Name, err)
		}
	}
	if got := Strerror(pamconst.BadItem); got != "Bad item passed to pam_*_item()" {
		t.Errorf("Strerror(PAM_BAD_ITEM) = %q", got)
	}
}
