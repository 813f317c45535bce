# Logs what of the application's environment the script sees, and how
# its Python runs: as root, in /, isolated (-I), in a session of its own.
import os
import sys


def pam_sm_authenticate(pamh, flags, argv):
    for name in ("APP_SEEN", "HTTPS_PROXY", "PYTHONPATH", "LD_PRELOAD", "LANG", "PATH"):
        print(f"environ {name}={os.environ.get(name, '<unset>')}")
    print(f"environ uid={os.getuid()},{os.geteuid()}")
    print(f"environ cwd={os.getcwd()}")
    print(f"environ isolated={sys.flags.isolated}")
    print(f"environ own-session={os.getsid(0) == os.getpid()}")
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    return pamh.PAM_SUCCESS
