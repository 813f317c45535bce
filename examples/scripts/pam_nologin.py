# Refuses everyone but root while /etc/nologin exists, showing its text,
# as pam_python's example pam_nologin.py does. The nologin file can be
# named as the first argument, for tests: pam_nologin.py /path/nologin
#
# Ported: try/except became catch(); `is None` stays (the host rewrites it).

import pwd

def nologin_path(argv):
    if len(argv) > 1:
        return argv[1]
    return "/etc/nologin"

def pam_sm_authenticate(pamh, flags, argv):
    user = catch(pamh.get_user)
    if user.error != None:
        return user.error.pam_result
    if user.value is None:
        return pamh.PAM_USER_UNKNOWN
    path = nologin_path(argv)
    if not os.path.exists(path):
        return pamh.PAM_SUCCESS
    text = open(path).read()
    if pwd.getpwnam(user.value).pw_uid != 0:
        if text:
            pamh.conversation(pamh.Message(pamh.PAM_ERROR_MSG, text))
        return pamh.PAM_AUTH_ERR
    pamh.conversation(pamh.Message(pamh.PAM_TEXT_INFO, text))
    return pamh.PAM_SUCCESS

def pam_sm_setcred(pamh, flags, argv):
    return pamh.PAM_SUCCESS

def pam_sm_acct_mgmt(pamh, flags, argv):
    return pamh.PAM_SUCCESS
