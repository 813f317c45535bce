package starhost

// pamConstants are the 68 names pam_python puts on pamh, with Linux-PAM
// 1.5.2's values (research/pam_python_api.md §2.6).
var pamConstants = map[string]int{
	"PAM_SUCCESS": 0, "PAM_OPEN_ERR": 1, "PAM_SYMBOL_ERR": 2, "PAM_SERVICE_ERR": 3, "PAM_SYSTEM_ERR": 4,
	"PAM_BUF_ERR": 5, "PAM_PERM_DENIED": 6, "PAM_AUTH_ERR": 7, "PAM_CRED_INSUFFICIENT": 8,
	"PAM_AUTHINFO_UNAVAIL": 9, "PAM_USER_UNKNOWN": 10, "PAM_MAXTRIES": 11, "PAM_NEW_AUTHTOK_REQD": 12,
	"PAM_ACCT_EXPIRED": 13, "PAM_SESSION_ERR": 14, "PAM_CRED_UNAVAIL": 15, "PAM_CRED_EXPIRED": 16,
	"PAM_CRED_ERR": 17, "PAM_NO_MODULE_DATA": 18, "PAM_CONV_ERR": 19, "PAM_AUTHTOK_ERR": 20,
	"PAM_AUTHTOK_RECOVER_ERR": 21, "PAM_AUTHTOK_RECOVERY_ERR": 21, "PAM_AUTHTOK_LOCK_BUSY": 22,
	"PAM_AUTHTOK_DISABLE_AGING": 23, "PAM_TRY_AGAIN": 24, "PAM_IGNORE": 25, "PAM_ABORT": 26,
	"PAM_AUTHTOK_EXPIRED": 27, "PAM_MODULE_UNKNOWN": 28, "PAM_BAD_ITEM": 29, "PAM_CONV_AGAIN": 30,
	"PAM_INCOMPLETE": 31, "_PAM_RETURN_VALUES": 32,
	"PAM_SERVICE": 1, "PAM_USER": 2, "PAM_TTY": 3, "PAM_RHOST": 4, "PAM_CONV": 5, "PAM_AUTHTOK": 6,
	"PAM_OLDAUTHTOK": 7, "PAM_RUSER": 8, "PAM_USER_PROMPT": 9, "PAM_FAIL_DELAY": 10, "PAM_XDISPLAY": 11,
	"PAM_XAUTHDATA": 12, "PAM_AUTHTOK_TYPE": 13,
	"PAM_SILENT": 0x8000, "PAM_DISALLOW_NULL_AUTHTOK": 0x1, "PAM_ESTABLISH_CRED": 0x2, "PAM_DELETE_CRED": 0x4,
	"PAM_REINITIALIZE_CRED": 0x8, "PAM_REFRESH_CRED": 0x10, "PAM_CHANGE_EXPIRED_AUTHTOK": 0x20,
	"PAM_PRELIM_CHECK": 0x4000, "PAM_UPDATE_AUTHTOK": 0x2000, "PAM_DATA_REPLACE": 0x20000000,
	"PAM_DATA_SILENT":     0x40000000,
	"PAM_PROMPT_ECHO_OFF": 1, "PAM_PROMPT_ECHO_ON": 2, "PAM_ERROR_MSG": 3, "PAM_TEXT_INFO": 4,
	"PAM_RADIO_TYPE": 5, "PAM_BINARY_PROMPT": 7,
	"PAM_MAX_NUM_MSG": 32, "PAM_MAX_MSG_SIZE": 512, "PAM_MAX_RESP_SIZE": 512,
	"HAVE_PAM_FAIL_DELAY": 1,
}

// pamStrerror is Linux-PAM's pam_strerror text for each code.
var pamStrerror = []string{
	"Success", "Failed to load module", "Symbol not found", "Error in service module", "System error",
	"Memory buffer error", "Permission denied", "Authentication failure",
	"Insufficient credentials to access authentication data",
	"Authentication service cannot retrieve authentication info", "User not known to the underlying authentication module",
	"Have exhausted maximum number of retries for service", "Authentication token is no longer valid; new one required",
	"User account has expired", "Cannot make/remove an entry for the specified session",
	"Authentication service cannot retrieve user credentials", "User credentials expired",
	"Failure setting user credentials", "No module specific data is present", "Conversation error",
	"Authentication token manipulation error", "Authentication information cannot be recovered",
	"Authentication token lock busy", "Authentication token aging disabled", "Failed preliminary check by password service",
	"The return value should be ignored by PAM dispatch", "Critical error - immediate abort",
	"Authentication token expired", "Module is unknown", "Bad item passed to pam_*_item()",
	"Conversation is waiting for event", "Application needs to call libpam again",
}
