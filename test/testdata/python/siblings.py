# Module state a login keeps: what its authentication saw.
import os

seen = []


def pam_sm_authenticate(pamh, flags, argv):
    print(f"sibling-auth python={os.getpid()} seen={seen}")
    seen.append("auth")
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    return pamh.PAM_SUCCESS if "auth" in seen else pamh.PAM_PERM_DENIED
