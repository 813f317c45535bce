package protocol

import "github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"

// PAM return codes the helper answers with (internal/pamconst).
const (
	PAMSuccess     = pamconst.Success
	PAMServiceErr  = pamconst.ServiceErr
	PAMSystemErr   = pamconst.SystemErr
	PAMPermDenied  = pamconst.PermDenied
	PAMAuthErr     = pamconst.AuthErr
	PAMUserUnknown = pamconst.UserUnknown
	PAMIgnore      = pamconst.Ignore
)

// PAM flags the helper looks at.
const (
	FlagSilent = pamconst.Silent // PAM_SILENT: no messages to the user
)
