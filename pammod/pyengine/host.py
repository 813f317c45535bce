# The Python side of pam_accesscontrol.so's interpreter= mode: one process
# per login runs pam_python scripts with pam_python's pamh, for the life of
# the PAM handle. The helper started it with a listening unix socket on fd 3
# and connects to it for each PAM call; every pamh call goes back to the
# helper, and through it to the PAM application, as one JSON line each way.
#
#   python3 -I -c HOST OWNER_PID OWNER_START PARENT_PID PARENT_START SOCKET
#
# It exits at pam_end, when no process of its login is left (Login), or
# after a day without a call. Nothing here is an instruction to scripts' authors:
# they see pam_python's API and nothing else.
import json
import os
import socket
import struct
import sys
import syslog
import time
import traceback
import types

CONSTANTS = json.loads(os.environ.pop("PAMAC_CONSTANTS", "{}"))
STRERROR = json.loads(os.environ.pop("PAMAC_STRERROR", "[]"))
IDLE = 24 * 3600
POLL = 5


def strerror_of(code):
    if 0 <= code < len(STRERROR):
        return STRERROR[code]
    return "Unknown PAM error"


class Channel:
    """One PAM call's connection to the helper."""

    def __init__(self, conn):
        self.conn = conn
        self.rfile = conn.makefile("rb")

    def send(self, obj):
        self.conn.sendall(json.dumps(obj).encode() + b"\n")

    def recv(self):
        line = self.rfile.readline()
        if not line:
            raise EOFError("the helper went away")
        return json.loads(line)

    def ask(self, obj):
        """A request to the helper; returns (code, value)."""
        self.send(obj)
        reply = self.recv()
        return reply.get("code", CONSTANTS["PAM_SYSTEM_ERR"]), reply.get("value")


def arg_type(v):
    """How CPython's argument parsing names a wrong argument's type."""
    return "None" if v is None else type(v).__name__


def make_pamh_class():
    """pam_python's PamHandle: the same names, keyword names and errors."""

    class PamException(Exception):
        def __init__(self, *args, **kw):
            self.pam_result = kw.pop("pam_result", CONSTANTS["PAM_SYSTEM_ERR"])
            if not args:
                args = (strerror_of(self.pam_result),)
            Exception.__init__(self, *args)

    class Message(object):
        __slots__ = ("msg_style", "msg")

        def __init__(self, msg_style, msg):
            if not isinstance(msg, str):
                raise TypeError("Message() argument 2 must be str, not %s" % arg_type(msg))
            object.__setattr__(self, "msg_style", int(msg_style))
            object.__setattr__(self, "msg", msg)

        def __setattr__(self, name, value):
            raise AttributeError("readonly attribute")

    class Response(object):
        __slots__ = ("resp", "resp_retcode")

        def __init__(self, resp, resp_retcode):
            object.__setattr__(self, "resp", resp)
            object.__setattr__(self, "resp_retcode", int(resp_retcode))

        def __setattr__(self, name, value):
            raise AttributeError("readonly attribute")

    class XAuthData(object):
        __slots__ = ("name", "data")

        def __init__(self, name, data):
            for i, v in ((1, name), (2, data)):
                if not isinstance(v, str):
                    raise TypeError("XAuthData() argument %d must be str, not %s" % (i, arg_type(v)))
            object.__setattr__(self, "name", name)
            object.__setattr__(self, "data", data)

        def __setattr__(self, name, value):
            raise AttributeError("readonly attribute")

    items = {
        "service": "PAM_SERVICE", "user": "PAM_USER", "tty": "PAM_TTY", "rhost": "PAM_RHOST",
        "authtok": "PAM_AUTHTOK", "oldauthtok": "PAM_OLDAUTHTOK", "ruser": "PAM_RUSER",
        "user_prompt": "PAM_USER_PROMPT", "xdisplay": "PAM_XDISPLAY", "authtok_type": "PAM_AUTHTOK_TYPE",
    }

    class Env(object):
        def __init__(self, pamh):
            self._pamh = pamh

        @staticmethod
        def _key(key):
            if not isinstance(key, str):
                raise TypeError("PAM environment key must be a string")
            if not key:
                raise ValueError("PAM environment key mustn't be 0 length")
            if "=" in key:
                raise ValueError("PAM environment key can't contain '='")
            return key

        def _list(self):
            code, value = self._pamh._ask({"op": "envlist"})
            out = []
            for entry in value or []:
                k, _, v = entry.partition("=")
                out.append((k, v))
            return out

        def __getitem__(self, key):
            code, value = self._pamh._ask({"op": "getenv", "name": self._key(key)})
            if value is None:
                raise KeyError(key)
            return value

        def __setitem__(self, key, value):
            self._key(key)
            if not isinstance(value, str):
                raise TypeError("PAM environment value must be a string")
            code, _ = self._pamh._ask({"op": "putenv", "name": key + "=" + value})
            if code != 0:
                raise KeyError(key)

        def __delitem__(self, key):
            code, _ = self._pamh._ask({"op": "putenv", "name": self._key(key)})
            if code != 0:
                raise KeyError(key)

        def __contains__(self, key):
            return self.get(key) is not None

        def __len__(self):
            return len(self._list())

        def __iter__(self):
            return iter(self.keys())

        def get(self, key, default=None):
            try:
                return self[key]
            except KeyError:
                return default

        def has_key(self, key):
            return key in self

        def items(self):
            return self._list()

        def keys(self):
            return [k for k, _ in self._list()]

        def values(self):
            return [v for _, v in self._list()]

        def iteritems(self):
            return iter(self.items())

        def iterkeys(self):
            return iter(self.keys())

        def itervalues(self):
            return iter(self.values())

    class PamHandle(object):
        exception = PamException

        def __init__(self, module):
            object.__setattr__(self, "_channel", None)
            object.__setattr__(self, "env", Env(self))
            object.__setattr__(self, "module", module)
            object.__setattr__(self, "pamh", 0)
            object.__setattr__(self, "py_initialized", 1)
            object.__setattr__(self, "libpam_version", "__LINUX_PAM__.__LINUX_PAM_MINOR__")

        def _ask(self, req):
            ch = object.__getattribute__(self, "_channel")
            if ch is None:
                raise PamException(pam_result=CONSTANTS["PAM_SYSTEM_ERR"])
            return ch.ask(req)

        def _check(self, req):
            code, value = self._ask(req)
            if code != 0:
                raise PamException(pam_result=code)
            return value

        def __getattr__(self, name):
            if name in items:
                return self._check({"op": "get_item", "item": CONSTANTS[items[name]]})
            if name == "xauthdata":
                return self._get_xauthdata()
            if name in CONSTANTS:
                return CONSTANTS[name]
            raise AttributeError(name)

        def __setattr__(self, name, value):
            if name in items:
                if value is not None and not isinstance(value, str):
                    raise TypeError("PAM item %s must be set to a string" % items[name])
                self._check({"op": "set_item", "item": CONSTANTS[items[name]], "value": value})
                return
            if name in CONSTANTS:
                raise AttributeError("attribute '%s' of 'PamHandle_type' objects is not writable" % name)
            if name == "xauthdata":
                self._set_xauthdata(value)
                return
            raise AttributeError("attribute '%s' of 'PamHandle_type' objects is not writable" % name)

        def _get_xauthdata(self):
            value = self._check({"op": "get_xauth"})
            # pam_python builds XAuthData from the item's two fields: unset,
            # they are NULL, and XAuthData(None, None) raises this
            if value is None:
                raise TypeError("XAuthData() argument 1 must be str, not None")
            name, data = (bytes.fromhex(v).decode() for v in value)
            return XAuthData(name, data)

        def _set_xauthdata(self, value):
            # pam_python takes any object with str .name and .data, as C
            # strings (strdup: up to the first NUL)
            name = getattr(value, "name")
            if not isinstance(name, str):
                raise TypeError("xauthdata.name must be a string")
            data = getattr(value, "data")
            if not isinstance(data, str):
                raise TypeError("xauthdata.data must be a string")
            self._check({"op": "set_xauth", "value": [name.split("\0", 1)[0], data.split("\0", 1)[0]]})

        def get_user(self, prompt=None):
            return self._check({"op": "get_user", "prompt": prompt})

        def conversation(self, prompts):
            single = hasattr(prompts, "msg_style")
            msgs = [prompts] if single else list(prompts)
            if not msgs:
                return prompts
            wire = []
            for m in msgs:
                style, text = m.msg_style, m.msg
                if not isinstance(text, str):
                    raise TypeError("PAM message must be a string")
                wire.append([int(style), text])
            answers = self._check({"op": "conv", "msgs": wire})
            out = tuple(Response(a[0], a[1] if len(a) > 1 else 0) for a in answers)
            return out[0] if single else out

        def __dir__(self):
            # pam_python's members are slots and getset descriptors, so
            # dir(pamh) lists the constants and items (test.py reads them so)
            return sorted(set(object.__dir__(self)) | set(CONSTANTS) | set(items) | {"xauthdata"})

        def fail_delay(self, micro_sec):
            self._check({"op": "fail_delay", "usec": int(micro_sec)})

        def strerror(self, errnum):
            return strerror_of(int(errnum))

    PamHandle.Message = Message
    PamHandle.Response = Response
    PamHandle.XAuthData = XAuthData
    return PamHandle


class Script:
    """One script's module instance and pamh, shared by every stack line
    that names it, as pam_python keys them by resolved path."""

    def __init__(self, path):
        self.path = path
        self.module = None
        self.pamh = None


scripts = {}
loaded = []  # the scripts whose top level ran, in that order
PamHandle = make_pamh_class()


def log(priority, text):
    syslog.syslog(priority, text)


def where(tb_text):
    """The last line of the traceback that names a file: where it failed."""
    lines = [l.strip() for l in tb_text.splitlines() if l.strip().startswith("File ")]
    return lines[-1] if lines else ""


def load(script):
    """Run the script's top level once; an error is not cached (pam_python)."""
    if script.module is not None:
        return None
    name = os.path.basename(script.path)
    if name.endswith(".py"):
        name = name[:-3]
    module = types.ModuleType(name)
    module.__file__ = script.path
    with open(script.path, "rb") as f:
        source = f.read()
    code = compile(source, script.path, "exec")
    pamh = PamHandle(module)
    exec(code, module.__dict__)
    script.module, script.pamh = module, pamh
    loaded.append(script)
    return None


def run_call(ch, req):
    """Run one entry point; returns the result message."""
    path = req["script"]
    entry = req["entry"]
    if entry == "pam_sm_end":
        return end_all(ch, req)
    script = scripts.setdefault(path, Script(path))
    C = CONSTANTS
    try:
        load(script)
    except MemoryError:
        return {"op": "result", "code": C["PAM_BUF_ERR"], "error": "MemoryError while loading", "where": ""}
    except BaseException:
        tb = traceback.format_exc()
        return {"op": "result", "code": C["PAM_SERVICE_ERR"], "error": tb, "where": where(tb)}
    return call_entry(ch, script, entry, req)


def end_all(ch, req):
    """pam_end: the module asks for its first script line's pam_sm_end;
    pam_python ends every script the handle loaded, each from its own PAM
    data, so the last loaded first. A script never loaded is not ended.
    The others' failures are logged here; the asked one's is the result."""
    result = {"op": "result", "code": 0}
    for script in reversed(loaded):
        r = call_entry(ch, script, "pam_sm_end", req)
        if script.path == req["script"]:
            result = r
        elif r.get("error"):
            last = r["error"].strip().splitlines()[-1].strip()
            log(syslog.LOG_ERR, "pam_sm_end: script %r: %s%s" % (script.path, r["where"] + ": " if r["where"] else "", last))
    return result


def call_entry(ch, script, entry, req):
    """Run one entry point of a loaded script; returns the result message."""
    C = CONSTANTS
    pamh = script.pamh
    object.__setattr__(pamh, "_channel", ch)
    # pam_python re-points pamh.pamh at the handle on every call
    object.__setattr__(pamh, "pamh", req.get("handle", 0))
    try:
        fn = script.module.__dict__.get(entry)
        if fn is None:
            if entry == "pam_sm_end":
                return {"op": "result", "code": 0}
            return {"op": "result", "code": C["PAM_SYMBOL_ERR"], "error": "%s() isn't defined." % entry, "where": ""}
        if not callable(fn):
            return {"op": "result", "code": C["PAM_SERVICE_ERR"], "error": "%s isn't a function." % entry, "where": ""}
        try:
            if entry == "pam_sm_end":
                fn(pamh)
                return {"op": "result", "code": 0}
            result = fn(pamh, req["flags"], list(req["argv"]))
        except MemoryError:
            return {"op": "result", "code": C["PAM_BUF_ERR"], "error": "MemoryError", "where": ""}
        except BaseException:
            tb = traceback.format_exc()
            return {"op": "result", "code": C["PAM_SERVICE_ERR"], "error": tb, "where": where(tb)}
        # our fix: a bool is not a PAM code (pam_python takes False as success)
        if isinstance(result, bool) or not isinstance(result, int):
            return {"op": "result", "code": C["PAM_SERVICE_ERR"],
                    "error": "%s() did not return an integer (it returned %r)." % (entry, result), "where": ""}
        if not 0 <= result < C["_PAM_RETURN_VALUES"]:
            return {"op": "result", "code": C["PAM_SERVICE_ERR"],
                    "error": "%s() returned %d, which is not a PAM code." % (entry, result), "where": ""}
        return {"op": "result", "code": result}
    finally:
        object.__setattr__(pamh, "_channel", None)


def start_time(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[19])


def running(pid, start):
    return pid > 0 and start_time(pid) == start


class Login:
    """Which processes are this login's: those that made a call, and for a
    while the first caller's parent, which may take the login over (sshd's
    monitor opens the session its keyboard-interactive child authenticated)
    but may as well be a server that lives on (sshd's listener)."""

    PARENT_GRACE = 120

    def __init__(self, owner, parent, started):
        self.callers = {owner}
        self.parent = parent
        self.started = started

    def called(self, pid, start):
        self.callers.add((pid, start))

    def alive(self, now):
        if any(running(pid, start) for pid, start in self.callers):
            return True
        return now - self.started < self.PARENT_GRACE and running(*self.parent)


def peer_is_root(conn):
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return uid == 0 or uid == os.geteuid()


def main():
    login = Login((int(sys.argv[1]), int(sys.argv[2])), (int(sys.argv[3]), int(sys.argv[4])), time.monotonic())
    sys.argv = [""]
    syslog.openlog("pam-accesscontrol-python", syslog.LOG_PID, syslog.LOG_AUTHPRIV)
    listener = socket.socket(fileno=3)
    listener.settimeout(POLL)
    idle = 0
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            idle += POLL
            if idle >= IDLE or not login.alive(time.monotonic()):
                return 0
            continue
        idle = 0
        conn.settimeout(None)
        with conn:
            if not peer_is_root(conn):
                continue
            ch = Channel(conn)
            try:
                req = ch.recv()
                if req.get("op") != "call":
                    continue
                login.called(*req.get("caller", (0, 0)))
                result = run_call(ch, req)
                ch.send(result)
            except (EOFError, OSError, ValueError):
                continue  # the helper is gone: its call failed closed
            if req.get("entry") == "pam_sm_end":
                return 0


if __name__ == "__main__":
    # print() goes to syslog, never to the application's terminal
    class SyslogWriter:
        def __init__(self, priority):
            self.priority, self.buf = priority, ""

        def write(self, s):
            self.buf += s
            while "\n" in self.buf:
                line, self.buf = self.buf.split("\n", 1)
                if line:
                    log(self.priority, line)
            return len(s)

        def flush(self):
            pass

    sys.stdout = SyslogWriter(syslog.LOG_INFO)
    sys.stderr = SyslogWriter(syslog.LOG_ERR)
    sys.exit(main())
