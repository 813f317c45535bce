package protocol

// PAM return codes (security/_pam_types.h, Linux-PAM).
const (
	PAMSuccess     = 0
	PAMServiceErr  = 3
	PAMSystemErr   = 4
	PAMPermDenied  = 6
	PAMAuthErr     = 7
	PAMUserUnknown = 10
	PAMIgnore      = 25
)

// PAM flags the helper looks at.
const (
	FlagSilent = 0x8000 // PAM_SILENT: no messages to the user
)
