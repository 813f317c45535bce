# A pam_python module that only a real Python runs: a class, try/except,
# f-strings, the socket module; module state across the login's calls.
import json
import os
import socket


class Calls:
    def __init__(self):
        self.seen = []


calls = Calls()


def pam_sm_authenticate(pamh, flags, argv):
    calls.seen.append("auth")
    try:
        name, code = pamh.conversation([
            pamh.Message(pamh.PAM_PROMPT_ECHO_ON, "Name: "),
            pamh.Message(pamh.PAM_PROMPT_ECHO_OFF, "Code: "),
        ])
    except pamh.exception as e:
        return e.pam_result
    if code.resp != argv[1]:
        pamh.conversation(pamh.Message(pamh.PAM_ERROR_MSG, f"wrong code for {pamh.user}"))
        return pamh.PAM_AUTH_ERR
    pamh.env["PYENGINE_NAME"] = name.resp
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    calls.seen.append("account")
    # only a login that authenticated here, in this module instance
    return pamh.PAM_SUCCESS if "auth" in calls.seen else pamh.PAM_PERM_DENIED


def pam_sm_open_session(pamh, flags, argv):
    calls.seen.append("open_session")
    print(f"state {json.dumps(calls.seen)} user={pamh.user} rhost={pamh.rhost} "
          f"name={pamh.env.get('PYENGINE_NAME')} host={socket.gethostname() != ''} argv={argv[1:]}")
    return pamh.PAM_SUCCESS


def pam_sm_close_session(pamh, flags, argv):
    calls.seen.append("close_session")
    raise ValueError("boom in close_session")


def pam_sm_setcred(pamh, flags, argv):
    calls.seen.append("setcred")
    print(f"setcred state {json.dumps(calls.seen)}")
    import sys
    print("setcred on stderr", file=sys.stderr)
    # a script that forks: the child's exit must not end the login's Python
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pamh.PAM_SUCCESS


def pam_sm_chauthtok(pamh, flags, argv):
    while True:  # a script that hangs
        pass


def pam_sm_end(pamh):
    print(f"pam_sm_end after {json.dumps(calls.seen)}")
