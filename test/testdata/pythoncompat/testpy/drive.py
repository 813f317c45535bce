# drive.py NAME: runs upstream test.py's run_NAME (its own PAM calls and its
# own assertions, unchanged) as `python3 test.py` would, and prints one line
#   REPORT {"test", "outcome", "calls", "results"}
# for the Go test (test/pythoncompat_test.go) to compare between
# pam_python.so and pam_accesscontrol.so interpreter=.
#
# test.py is both the PAM module and the driver: the module half, loaded by
# pam_python.so inside this process, finds the driver's `test` module in
# sys.modules and appends to test.test_results. Under interpreter= the
# module half runs in another Python; bridge.py, the stack line before it,
# gives that Python a `test` module whose test_function and test_results
# are this process's, over the socket served here.
import ast
import gc
import json
import os
import socket
import sys
import threading
import traceback

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import PAM  # noqa: E402  (the ctypes stand-in for PyPAM, beside this file)
import test  # noqa: E402  (upstream test.py, imported as run_test imports it)

test.PAM = PAM  # what `import PAM` under `if __name__ == "__main__"` binds


def serve_one(conn):
    rfile = conn.makefile("rb")
    with conn:
        for line in rfile:
            req = json.loads(line)
            op, value = req["op"], None
            if op == "name":
                value = test.test_function.__name__
            elif op == "append":
                test.test_results.append(ast.literal_eval(req["value"]))
            elif op == "extend":
                test.test_results.extend(ast.literal_eval(req["value"]))
            elif op == "get":
                value = repr(test.test_results[req["index"]])
            elif op == "len":
                value = len(test.test_results)
            conn.sendall(json.dumps({"value": value}).encode() + b"\n")


def serve(path):
    ln = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ln.bind(path)
    ln.listen(4)
    while True:
        conn, _ = ln.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


def main(name):
    bridge = os.environ.get("PAMAC_TESTPY_BRIDGE")
    if bridge:
        threading.Thread(target=serve, args=(bridge,), daemon=True).start()
    outcome = "ok"
    try:
        test.run_test(getattr(test, "run_" + name))
    except BaseException as e:
        outcome = "%s: %s" % (e.__class__.__name__, e)
        sys.stdout.write("\n")
        traceback.print_exc()
    # run_absent's handle outlives `del pam` in a cycle (its exceptions'
    # tracebacks hold its frame): end it now, while the bridge is served,
    # not in the interpreter's shutdown
    gc.collect()
    report = {"test": name, "outcome": outcome, "calls": PAM.calls,
              "results": repr(getattr(test, "test_results", None)), "stray": PAM.stray}
    sys.stdout.write("REPORT " + json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
