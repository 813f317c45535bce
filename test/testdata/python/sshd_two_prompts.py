# A pam_python module for a real sshd that only a real Python runs (a
# class, f-strings, try/except): two questions in one conversation in
# pam_sm_authenticate, asked in sshd's forked keyboard-interactive child;
# the session, opened in sshd's parent, only for the user who answered
# both, in this same module instance. argv: the two answers.
import os


class Gate:
    """What this login's module instance saw."""

    def __init__(self, first, second):
        self.answers = (first, second)
        self.passed = None  # the user who answered both
        self.calls = []

    def ask(self, pamh):
        first, second = pamh.conversation([
            pamh.Message(pamh.PAM_PROMPT_ECHO_ON, "First word: "),
            pamh.Message(pamh.PAM_PROMPT_ECHO_OFF, "Second word: "),
        ])
        return (first.resp, second.resp) == self.answers

    def __str__(self):
        return f"passed={self.passed} calls={','.join(self.calls)}"


gate = None


def pam_sm_authenticate(pamh, flags, argv):
    global gate
    if gate is None:
        gate = Gate(*argv[1:3])
    gate.calls.append("auth")
    try:
        user, ok = pamh.get_user(), gate.ask(pamh)
    except pamh.exception as e:
        return e.pam_result
    if not ok:
        print(f"sshd-two-prompts: wrong answers for {user}")
        return pamh.PAM_AUTH_ERR
    gate.passed = user
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    if gate is None or gate.passed != pamh.user:
        return pamh.PAM_PERM_DENIED
    gate.calls.append("account")
    return pamh.PAM_SUCCESS


def pam_sm_setcred(pamh, flags, argv):
    if gate is not None:
        gate.calls.append("setcred")
    print(f"sshd-two-prompts: setcred sees {gate}")
    return pamh.PAM_SUCCESS


def pam_sm_open_session(pamh, flags, argv):
    if gate is None or gate.passed != pamh.user:
        print(f"sshd-two-prompts: a session for {pamh.user} that did not authenticate here ({gate})")
        return pamh.PAM_PERM_DENIED
    gate.calls.append("open_session")
    pamh.env["TWO_PROMPTS"] = f"{gate.passed}:{'+'.join(gate.calls)}"
    print(f"sshd-two-prompts: session opened, {gate} (python {os.getpid()})")
    return pamh.PAM_SUCCESS


def pam_sm_close_session(pamh, flags, argv):
    if gate is not None:
        gate.calls.append("close_session")
    return pamh.PAM_SUCCESS


def pam_sm_end(pamh):
    print(f"sshd-two-prompts: end, {gate}")
