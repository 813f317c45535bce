# PAM: the part of PyPAM's API (the `PAM` module upstream test.py imports)
# that pam_python's test.py uses, over the real libpam with ctypes. Debian 12
# has no Python 3 PyPAM. It is the application side only: the driver
# (drive.py) runs test.py's run_* functions with it, and libpam loads the
# module under test (pam_python.so, or pam_accesscontrol.so interpreter=)
# from the service file in $PAMAC_TESTPY_CONFDIR (pam_start_confdir), so
# nothing under /etc/pam.d is touched.
#
# Every libpam call is recorded in `calls` as (function, flags, result) for
# the report the Go test compares between the two modules.
import ctypes
import ctypes.util
import os
import weakref

_PAM_RETURN_VALUES = 32

# PyPAM holds the GIL across libpam calls, and pam_python.so relies on it
# when it runs in an application's Python: it calls into that interpreter
# without taking the GIL. So libpam is a PyDLL here (the GIL kept), except
# when the module half runs in another process and this one must serve it
# (drive.py's bridge, $PAMAC_TESTPY_BRIDGE): then a CDLL (the GIL released).
_dll = ctypes.CDLL if os.environ.get("PAMAC_TESTPY_BRIDGE") else ctypes.PyDLL
_libpam = _dll(ctypes.util.find_library("pam") or "libpam.so.0")
# A PyDLL raises, after the call, any Python error left set, and drops the
# call's result: pam_python.so leaves one set when an entry point is
# missing (its failed attribute look-up), where PyPAM raises its own
# PAM.error with the code. $PAMAC_TESTPY_CALLER is a small C library (the
# Go test builds it) whose pamac_call(fn, pamh, flags, &rc) stores the
# result before returning, so it survives; the stray error is recorded.
_caller = None
if _dll is ctypes.PyDLL and os.environ.get("PAMAC_TESTPY_CALLER"):
    _caller = ctypes.PyDLL(os.environ["PAMAC_TESTPY_CALLER"])
    _caller.pamac_call.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_libc.calloc.restype = ctypes.c_void_p
_libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
_libc.strdup.restype = ctypes.c_void_p
_libc.strdup.argtypes = [ctypes.c_char_p]


class _Message(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]


class _Response(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_void_p), ("resp_retcode", ctypes.c_int)]


_CONV = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.POINTER(_Message)),
                         ctypes.POINTER(ctypes.POINTER(_Response)), ctypes.c_void_p)


class _Conv(ctypes.Structure):
    _fields_ = [("conv", _CONV), ("appdata_ptr", ctypes.c_void_p)]


_libpam.pam_strerror.restype = ctypes.c_char_p
_libpam.pam_strerror.argtypes = [ctypes.c_void_p, ctypes.c_int]
for _name in ("pam_authenticate", "pam_setcred", "pam_acct_mgmt", "pam_open_session",
              "pam_close_session", "pam_chauthtok", "pam_end"):
    getattr(_libpam, _name).argtypes = [ctypes.c_void_p, ctypes.c_int]
_libpam.pam_putenv.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_libpam.pam_set_item.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]

calls = []
stray = []  # Python errors a module left set in this interpreter


class error(Exception):
    pass


class pam(object):
    def __init__(self):
        self._h = ctypes.c_void_p()
        self._conv_cb = None
        self._conv = None
        self._func = None
        self._user_data = None

    def start(self, service, user=None, conv=None, user_data=None):
        self._func, self._user_data = conv, user_data
        me = weakref.ref(self)  # no cycle: `del pam` ends the handle, as in PyPAM

        def trampoline(n, msgs, resp, appdata):
            queries = [(msgs[i].contents.msg.decode(), msgs[i].contents.msg_style) for i in range(n)]
            try:
                answers = me()._func(me(), queries, me()._user_data)
            except Exception:
                return 19  # PAM_CONV_ERR
            out = ctypes.cast(_libc.calloc(n, ctypes.sizeof(_Response)), ctypes.POINTER(_Response))
            for i, (text, code) in enumerate(answers[:n]):
                out[i].resp = _libc.strdup(text.encode()) if text is not None else None
                out[i].resp_retcode = code
            resp[0] = out
            return 0

        self._conv_cb = _CONV(trampoline)
        self._conv = _Conv(self._conv_cb, None)
        confdir = os.environ.get("PAMAC_TESTPY_CONFDIR")
        u = user.encode() if user is not None else None
        if confdir:
            rc = _libpam.pam_start_confdir(service.encode(), u, ctypes.byref(self._conv),
                                           confdir.encode(), ctypes.byref(self._h))
        else:
            rc = _libpam.pam_start(service.encode(), u, ctypes.byref(self._conv), ctypes.byref(self._h))
        self._check("start", 0, rc)

    def _check(self, fn, flags, rc):
        calls.append((fn, flags, rc))
        if rc != 0:
            raise error(_libpam.pam_strerror(self._h, rc).decode(), rc)

    def _call(self, fn, flags):
        f = getattr(_libpam, "pam_" + fn)
        if _caller is None:
            self._check(fn, flags, f(self._h, flags))
            return
        rc = ctypes.c_int(-1)
        try:
            _caller.pamac_call(ctypes.cast(f, ctypes.c_void_p), self._h, flags, ctypes.byref(rc))
        except Exception as e:
            stray.append("%s: %s: %s" % (fn, e.__class__.__name__, e))
        self._check(fn, flags, rc.value)

    def authenticate(self, flags=0):
        self._call("authenticate", flags)

    def setcred(self, flags=0):
        self._call("setcred", flags)

    def acct_mgmt(self, flags=0):
        self._call("acct_mgmt", flags)

    def open_session(self, flags=0):
        self._call("open_session", flags)

    def close_session(self, flags=0):
        self._call("close_session", flags)

    def chauthtok(self, flags=0):
        self._call("chauthtok", flags)

    def putenv(self, entry):
        self._check("putenv", 0, _libpam.pam_putenv(self._h, entry.encode()))

    def set_item(self, item, value):
        self._check("set_item", item, _libpam.pam_set_item(self._h, item, value.encode()))

    def __del__(self):
        if self._h:
            rc = _libpam.pam_end(self._h, 0)
            calls.append(("end", 0, rc))
            self._h = ctypes.c_void_p()
