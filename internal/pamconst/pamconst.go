// Package pamconst is the one Go copy of the Linux-PAM constants the
// product uses: return codes, items, flags, conversation message styles
// and limits, with Linux-PAM's values (security/_pam_types.h and
// security/pam_modules.h, 1.5.x), and pam_strerror's texts.
//
// pammod/protocol (the shim↔helper protocol) and rules/starhost/pamscript
// (the pam_python-compatible pamh) take their constants from here, and the
// tests of this package compare every value with the C headers the shim
// is built with.
//
// The constants are untyped, as the C macros are: callers use them as
// int (Starlark, pam_python's pamh) and as int32 (the wire) without
// conversions. What each one is, is in its group's comment and in Kind.
package pamconst

import "strconv"

// Return codes of the PAM functions and of a module's pam_sm_* entry
// points (_pam_types.h).
const (
	Success             = 0  // PAM_SUCCESS: successful function return
	OpenErr             = 1  // PAM_OPEN_ERR: dlopen() failure when loading a module
	SymbolErr           = 2  // PAM_SYMBOL_ERR: symbol not found
	ServiceErr          = 3  // PAM_SERVICE_ERR: error in a service module
	SystemErr           = 4  // PAM_SYSTEM_ERR: system error
	BufErr              = 5  // PAM_BUF_ERR: memory buffer error
	PermDenied          = 6  // PAM_PERM_DENIED: permission denied
	AuthErr             = 7  // PAM_AUTH_ERR: authentication failure
	CredInsufficient    = 8  // PAM_CRED_INSUFFICIENT: cannot access authentication data
	AuthinfoUnavail     = 9  // PAM_AUTHINFO_UNAVAIL: authentication service cannot retrieve information
	UserUnknown         = 10 // PAM_USER_UNKNOWN: user not known to the underlying module
	MaxTries            = 11 // PAM_MAXTRIES: retry limit reached; do not retry
	NewAuthtokReqd      = 12 // PAM_NEW_AUTHTOK_REQD: new authentication token required
	AcctExpired         = 13 // PAM_ACCT_EXPIRED: user account has expired
	SessionErr          = 14 // PAM_SESSION_ERR: cannot make or remove a session entry
	CredUnavail         = 15 // PAM_CRED_UNAVAIL: cannot retrieve user credentials
	CredExpired         = 16 // PAM_CRED_EXPIRED: user credentials expired
	CredErr             = 17 // PAM_CRED_ERR: failure setting user credentials
	NoModuleData        = 18 // PAM_NO_MODULE_DATA: no module-specific data present
	ConvErr             = 19 // PAM_CONV_ERR: conversation error
	AuthtokErr          = 20 // PAM_AUTHTOK_ERR: authentication token manipulation error
	AuthtokRecoveryErr  = 21 // PAM_AUTHTOK_RECOVERY_ERR (alias PAM_AUTHTOK_RECOVER_ERR): token cannot be recovered
	AuthtokLockBusy     = 22 // PAM_AUTHTOK_LOCK_BUSY: authentication token lock busy
	AuthtokDisableAging = 23 // PAM_AUTHTOK_DISABLE_AGING: authentication token aging disabled
	TryAgain            = 24 // PAM_TRY_AGAIN: preliminary check by the password service failed
	Ignore              = 25 // PAM_IGNORE: ignore this module's result
	Abort               = 26 // PAM_ABORT: critical error, abort the stack now
	AuthtokExpired      = 27 // PAM_AUTHTOK_EXPIRED: authentication token expired
	ModuleUnknown       = 28 // PAM_MODULE_UNKNOWN: module is not known
	BadItem             = 29 // PAM_BAD_ITEM: bad item passed to pam_[gs]et_item()
	ConvAgain           = 30 // PAM_CONV_AGAIN: conversation is waiting for an event
	Incomplete          = 31 // PAM_INCOMPLETE: call this function again to complete

	// ReturnValues is _PAM_RETURN_VALUES: the number of return codes, so
	// a code is valid when 0 <= code < ReturnValues.
	ReturnValues = 32
)

// Items for pam_get_item and pam_set_item (_pam_types.h).
const (
	ItemService     = 1  // PAM_SERVICE: the service name
	ItemUser        = 2  // PAM_USER: the user name
	ItemTTY         = 3  // PAM_TTY: the tty name
	ItemRHost       = 4  // PAM_RHOST: the remote host name
	ItemConv        = 5  // PAM_CONV: the pam_conv structure (not a string)
	ItemAuthtok     = 6  // PAM_AUTHTOK: the authentication token (password)
	ItemOldAuthtok  = 7  // PAM_OLDAUTHTOK: the old authentication token
	ItemRUser       = 8  // PAM_RUSER: the remote user name
	ItemUserPrompt  = 9  // PAM_USER_PROMPT: the prompt for getting a user name
	ItemFailDelay   = 10 // PAM_FAIL_DELAY: the application's fail-delay function (not a string)
	ItemXDisplay    = 11 // PAM_XDISPLAY: the X display name
	ItemXAuthData   = 12 // PAM_XAUTHDATA: X server authentication data (not a string)
	ItemAuthtokType = 13 // PAM_AUTHTOK_TYPE: the token type in pam_get_authtok's prompts
)

// Flags of the PAM functions and entry points (_pam_types.h,
// pam_modules.h), and of pam_set_data's cleanup.
const (
	Silent               = 0x8000     // PAM_SILENT: show the user no messages
	DisallowNullAuthtok  = 0x0001     // PAM_DISALLOW_NULL_AUTHTOK: an empty token fails authentication
	EstablishCred        = 0x0002     // PAM_ESTABLISH_CRED: pam_setcred sets credentials
	DeleteCred           = 0x0004     // PAM_DELETE_CRED: pam_setcred deletes credentials
	ReinitializeCred     = 0x0008     // PAM_REINITIALIZE_CRED: pam_setcred reinitializes credentials
	RefreshCred          = 0x0010     // PAM_REFRESH_CRED: pam_setcred extends credentials' lifetime
	ChangeExpiredAuthtok = 0x0020     // PAM_CHANGE_EXPIRED_AUTHTOK: pam_chauthtok changes only expired tokens
	PrelimCheck          = 0x4000     // PAM_PRELIM_CHECK: pam_sm_chauthtok's first, checking pass
	UpdateAuthtok        = 0x2000     // PAM_UPDATE_AUTHTOK: pam_sm_chauthtok's second, changing pass
	DataReplace          = 0x20000000 // PAM_DATA_REPLACE: a data cleanup runs because the data is replaced
	DataSilent           = 0x40000000 // PAM_DATA_SILENT: a data cleanup should print nothing
)

// Conversation message styles (_pam_types.h).
const (
	PromptEchoOff = 1 // PAM_PROMPT_ECHO_OFF: ask, without echoing the answer (a password)
	PromptEchoOn  = 2 // PAM_PROMPT_ECHO_ON: ask, echoing the answer
	ErrorMsg      = 3 // PAM_ERROR_MSG: show an error
	TextInfo      = 4 // PAM_TEXT_INFO: show information
	RadioType     = 5 // PAM_RADIO_TYPE: yes/no/maybe question (Linux-PAM extension)
	BinaryPrompt  = 7 // PAM_BINARY_PROMPT: binary data for a client agent (Linux-PAM extension)
)

// Conversation limits (_pam_types.h).
const (
	MaxNumMsg   = 32  // PAM_MAX_NUM_MSG: messages in one conversation
	MaxMsgSize  = 512 // PAM_MAX_MSG_SIZE: bytes of one message, its NUL included
	MaxRespSize = 512 // PAM_MAX_RESP_SIZE: bytes of one response, its NUL included
)

// HaveFailDelay is HAVE_PAM_FAIL_DELAY, which Linux-PAM defines (empty)
// because it has pam_fail_delay; pam_python gives it the value 1.
const HaveFailDelay = 1

// Kind says what a constant is.
type Kind uint8

const (
	KindCode    Kind = iota + 1 // a return code, or _PAM_RETURN_VALUES
	KindItem                    // an item
	KindFlag                    // a flag
	KindStyle                   // a conversation message style
	KindLimit                   // a limit
	KindFeature                 // a feature macro: 1 when the headers define it
)

// Const is one constant under its C name.
type Const struct {
	Name  string // as in the C headers and on pam_python's pamh: "PAM_SUCCESS"
	Value int
	Kind  Kind
}

// names are the 68 names pam_python puts on pamh (docs/pam_python.md
// §2.6), aliases included; every constant of this package is among them.
var names = []Const{
	{"PAM_SUCCESS", Success, KindCode},
	{"PAM_OPEN_ERR", OpenErr, KindCode},
	{"PAM_SYMBOL_ERR", SymbolErr, KindCode},
	{"PAM_SERVICE_ERR", ServiceErr, KindCode},
	{"PAM_SYSTEM_ERR", SystemErr, KindCode},
	{"PAM_BUF_ERR", BufErr, KindCode},
	{"PAM_PERM_DENIED", PermDenied, KindCode},
	{"PAM_AUTH_ERR", AuthErr, KindCode},
	{"PAM_CRED_INSUFFICIENT", CredInsufficient, KindCode},
	{"PAM_AUTHINFO_UNAVAIL", AuthinfoUnavail, KindCode},
	{"PAM_USER_UNKNOWN", UserUnknown, KindCode},
	{"PAM_MAXTRIES", MaxTries, KindCode},
	{"PAM_NEW_AUTHTOK_REQD", NewAuthtokReqd, KindCode},
	{"PAM_ACCT_EXPIRED", AcctExpired, KindCode},
	{"PAM_SESSION_ERR", SessionErr, KindCode},
	{"PAM_CRED_UNAVAIL", CredUnavail, KindCode},
	{"PAM_CRED_EXPIRED", CredExpired, KindCode},
	{"PAM_CRED_ERR", CredErr, KindCode},
	{"PAM_NO_MODULE_DATA", NoModuleData, KindCode},
	{"PAM_CONV_ERR", ConvErr, KindCode},
	{"PAM_AUTHTOK_ERR", AuthtokErr, KindCode},
	{"PAM_AUTHTOK_RECOVER_ERR", AuthtokRecoveryErr, KindCode},
	{"PAM_AUTHTOK_RECOVERY_ERR", AuthtokRecoveryErr, KindCode},
	{"PAM_AUTHTOK_LOCK_BUSY", AuthtokLockBusy, KindCode},
	{"PAM_AUTHTOK_DISABLE_AGING", AuthtokDisableAging, KindCode},
	{"PAM_TRY_AGAIN", TryAgain, KindCode},
	{"PAM_IGNORE", Ignore, KindCode},
	{"PAM_ABORT", Abort, KindCode},
	{"PAM_AUTHTOK_EXPIRED", AuthtokExpired, KindCode},
	{"PAM_MODULE_UNKNOWN", ModuleUnknown, KindCode},
	{"PAM_BAD_ITEM", BadItem, KindCode},
	{"PAM_CONV_AGAIN", ConvAgain, KindCode},
	{"PAM_INCOMPLETE", Incomplete, KindCode},
	{"_PAM_RETURN_VALUES", ReturnValues, KindCode},

	{"PAM_SERVICE", ItemService, KindItem},
	{"PAM_USER", ItemUser, KindItem},
	{"PAM_TTY", ItemTTY, KindItem},
	{"PAM_RHOST", ItemRHost, KindItem},
	{"PAM_CONV", ItemConv, KindItem},
	{"PAM_AUTHTOK", ItemAuthtok, KindItem},
	{"PAM_OLDAUTHTOK", ItemOldAuthtok, KindItem},
	{"PAM_RUSER", ItemRUser, KindItem},
	{"PAM_USER_PROMPT", ItemUserPrompt, KindItem},
	{"PAM_FAIL_DELAY", ItemFailDelay, KindItem},
	{"PAM_XDISPLAY", ItemXDisplay, KindItem},
	{"PAM_XAUTHDATA", ItemXAuthData, KindItem},
	{"PAM_AUTHTOK_TYPE", ItemAuthtokType, KindItem},

	{"PAM_SILENT", Silent, KindFlag},
	{"PAM_DISALLOW_NULL_AUTHTOK", DisallowNullAuthtok, KindFlag},
	{"PAM_ESTABLISH_CRED", EstablishCred, KindFlag},
	{"PAM_DELETE_CRED", DeleteCred, KindFlag},
	{"PAM_REINITIALIZE_CRED", ReinitializeCred, KindFlag},
	{"PAM_REFRESH_CRED", RefreshCred, KindFlag},
	{"PAM_CHANGE_EXPIRED_AUTHTOK", ChangeExpiredAuthtok, KindFlag},
	{"PAM_PRELIM_CHECK", PrelimCheck, KindFlag},
	{"PAM_UPDATE_AUTHTOK", UpdateAuthtok, KindFlag},
	{"PAM_DATA_REPLACE", DataReplace, KindFlag},
	{"PAM_DATA_SILENT", DataSilent, KindFlag},

	{"PAM_PROMPT_ECHO_OFF", PromptEchoOff, KindStyle},
	{"PAM_PROMPT_ECHO_ON", PromptEchoOn, KindStyle},
	{"PAM_ERROR_MSG", ErrorMsg, KindStyle},
	{"PAM_TEXT_INFO", TextInfo, KindStyle},
	{"PAM_RADIO_TYPE", RadioType, KindStyle},
	{"PAM_BINARY_PROMPT", BinaryPrompt, KindStyle},

	{"PAM_MAX_NUM_MSG", MaxNumMsg, KindLimit},
	{"PAM_MAX_MSG_SIZE", MaxMsgSize, KindLimit},
	{"PAM_MAX_RESP_SIZE", MaxRespSize, KindLimit},

	{"HAVE_PAM_FAIL_DELAY", HaveFailDelay, KindFeature},
}

// All returns every constant under its C name: the 68 names pam_python
// puts on pamh, aliases (PAM_AUTHTOK_RECOVER_ERR) included. The slice is
// the caller's.
func All() []Const {
	return append([]Const(nil), names...)
}

// strerror is Linux-PAM's pam_strerror text for each return code.
var strerror = [ReturnValues]string{
	Success:             "Success",
	OpenErr:             "Failed to load module",
	SymbolErr:           "Symbol not found",
	ServiceErr:          "Error in service module",
	SystemErr:           "System error",
	BufErr:              "Memory buffer error",
	PermDenied:          "Permission denied",
	AuthErr:             "Authentication failure",
	CredInsufficient:    "Insufficient credentials to access authentication data",
	AuthinfoUnavail:     "Authentication service cannot retrieve authentication info",
	UserUnknown:         "User not known to the underlying authentication module",
	MaxTries:            "Have exhausted maximum number of retries for service",
	NewAuthtokReqd:      "Authentication token is no longer valid; new one required",
	AcctExpired:         "User account has expired",
	SessionErr:          "Cannot make/remove an entry for the specified session",
	CredUnavail:         "Authentication service cannot retrieve user credentials",
	CredExpired:         "User credentials expired",
	CredErr:             "Failure setting user credentials",
	NoModuleData:        "No module specific data is present",
	ConvErr:             "Conversation error",
	AuthtokErr:          "Authentication token manipulation error",
	AuthtokRecoveryErr:  "Authentication information cannot be recovered",
	AuthtokLockBusy:     "Authentication token lock busy",
	AuthtokDisableAging: "Authentication token aging disabled",
	TryAgain:            "Failed preliminary check by password service",
	Ignore:              "The return value should be ignored by PAM dispatch",
	Abort:               "Critical error - immediate abort",
	AuthtokExpired:      "Authentication token expired",
	ModuleUnknown:       "Module is unknown",
	BadItem:             "Bad item passed to pam_*_item()",
	ConvAgain:           "Conversation is waiting for event",
	Incomplete:          "Application needs to call libpam again",
}

// Strerror is pam_strerror's text for code (in the C locale), with the
// code appended for one that is not a PAM return code.
func Strerror(code int) string {
	if code >= 0 && code < len(strerror) {
		return strerror[code]
	}
	return "Unknown Linux-PAM return value " + strconv.Itoa(code)
}
