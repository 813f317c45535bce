# Logs what of the application's environment the script sees.
import os


def pam_sm_authenticate(pamh, flags, argv):
    for name in ("APP_SEEN", "HTTPS_PROXY", "PYTHONPATH", "LD_PRELOAD", "LANG", "PATH"):
        print(f"environ {name}={os.environ.get(name, '<unset>')}")
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    return pamh.PAM_SUCCESS
