# A script whose Python dies in the middle of a call: argv[1] says how.
import ctypes
import os
import signal


def pam_sm_authenticate(pamh, flags, argv):
    how = argv[1]
    if how == "segv":
        ctypes.string_at(0)  # a real segmentation fault in the interpreter
    elif how == "exit0":
        os._exit(0)  # ends the interpreter, "successfully"
    elif how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    return pamh.PAM_SUCCESS
