# pam_python's test suite's assertions, in the supported subset: each entry
# point checks its part and returns PAM_SUCCESS, or logs FAIL lines and
# returns PAM_AUTH_ERR. argv: conformance.py EXPECTED_RHOST

import syslog

state = {"calls": [], "chauthtok": []}
fails = []

def check(ok, what):
    if not ok:
        fails.append(what)
        syslog.syslog(syslog.LOG_ERR, "FAIL: " + what)

def verdict(pamh):
    n = len(fails)
    fails.clear()
    if n:
        return pamh.PAM_AUTH_ERR
    return pamh.PAM_SUCCESS

def pam_sm_authenticate(pamh, flags, argv):
    state["calls"].append("auth")
    # constants: the 68 names and their values
    names = [n for n in dir(pamh) if n.startswith("PAM_") or n.startswith("_PAM_") or n.startswith("HAVE_")]
    check(len(names) == 68, "68 constants, got %d" % len(names))
    check(pamh.PAM_SUCCESS == 0 and pamh.PAM_AUTH_ERR == 7 and pamh.PAM_IGNORE == 25 and pamh.PAM_INCOMPLETE == 31, "return codes")
    check(pamh.PAM_AUTHTOK_RECOVER_ERR == 21 and pamh.PAM_AUTHTOK_RECOVERY_ERR == 21, "alias")
    check(pamh.PAM_SILENT == 0x8000 and pamh.PAM_PRELIM_CHECK == 0x4000 and pamh.PAM_UPDATE_AUTHTOK == 0x2000, "flags")
    check(pamh.PAM_RHOST == 4 and pamh.PAM_XAUTHDATA == 12 and pamh.PAM_BINARY_PROMPT == 7 and pamh.HAVE_PAM_FAIL_DELAY == 1, "items, styles")
    check(catch(setattr_const, pamh).error != None, "constants are read-only")
    # argv: the script as written, then its arguments
    check(argv[0].endswith("conformance.py") and len(argv) == 2, "argv %s" % argv)
    # items round-trip
    check(pamh.rhost == argv[1], "rhost %s" % pamh.rhost)
    check(pamh.service == "sshd", "service")
    pamh.ruser = "remote-bob"
    check(pamh.ruser == "remote-bob", "ruser set")
    pamh.ruser = None
    check(pamh.ruser == None, "ruser unset")
    check(catch(set_ruser_int, pamh).error != None, "an item takes strings only")
    check(pamh.user_prompt == None, "user_prompt unset")
    # get_user, strerror, fail_delay
    check(pamh.get_user() == "alice", "get_user")
    check(pamh.strerror(7) == "Authentication failure", "strerror")
    check(pamh.fail_delay(1000) == None, "fail_delay")
    # env
    pamh.env["CONF_A"] = "1"
    check(pamh.env["CONF_A"] == "1", "env get")
    check("CONF_A" in pamh.env and pamh.env.has_key("CONF_A"), "env contains")
    check(pamh.env.get("CONF_NO") == None and pamh.env.get("CONF_NO", "d") == "d", "env get default")
    check("CONF_A" in pamh.env.keys() and ("CONF_A", "1") in pamh.env.items(), "env keys, items")
    bad = catch(set_env, pamh, "A=B")
    check(bad.error != None and "can't contain '='" in bad.error.message, "env key with =")
    bad = catch(set_env, pamh, "")
    check(bad.error != None and "0 length" in bad.error.message, "empty env key")
    # conversation: one message gives one Response, a list a tuple
    r = pamh.conversation(pamh.Message(pamh.PAM_TEXT_INFO, "conformance info"))
    check(r.resp == None and r.resp_retcode == 0, "single conversation")
    rs = pamh.conversation([pamh.Message(pamh.PAM_TEXT_INFO, "one"), pamh.Message(pamh.PAM_ERROR_MSG, "two")])
    check(type(rs) == "tuple" and len(rs) == 2, "list conversation gives a tuple")
    check(pamh.conversation([]) == [], "empty conversation")
    # per-handle data
    pamh.data["seen"] = "auth"
    return verdict(pamh)

def setattr_const(pamh):
    pamh.PAM_SUCCESS = 1

def set_ruser_int(pamh):
    pamh.ruser = 1

def set_env(pamh, key):
    pamh.env[key] = "x"

def pam_sm_acct_mgmt(pamh, flags, argv):
    state["calls"].append("account")
    # module state and pamh.data persist across the calls of one handle
    check(state["calls"] == ["auth", "account"], "globals across calls: %s" % state["calls"])
    check(pamh.data.get("seen") == "auth", "pamh.data across calls")
    check(pamh.env["CONF_A"] == "1", "env across calls")
    return verdict(pamh)

def pam_sm_chauthtok(pamh, flags, argv):
    state["chauthtok"].append(flags & (pamh.PAM_PRELIM_CHECK | pamh.PAM_UPDATE_AUTHTOK))
    if flags & pamh.PAM_UPDATE_AUTHTOK:
        check(state["chauthtok"] == [pamh.PAM_PRELIM_CHECK, pamh.PAM_UPDATE_AUTHTOK], "chauthtok twice: %s" % state["chauthtok"])
        syslog.syslog("chauthtok calls %s" % state["chauthtok"])
    return verdict(pamh)

def pam_sm_close_session(pamh, flags, argv):
    return False  # pam_python makes this PAM_SUCCESS; here it is an error

def pam_sm_end(pamh):
    syslog.syslog("pam_sm_end after %s" % state["calls"])
    return pamh.PAM_SUCCESS
