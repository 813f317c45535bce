# Logs in with a real ssh client by keyboard-interactive on a pty, as a
# person would: "secret" at the password prompt, and at each PIN prompt
# the contents of PINFILE, once the test has written it (the PIN arrives
# by mail). Usage: ssh_pin.py PORT PINFILE. Exits with ssh's status.
import os
import pty
import select
import sys
import time

port, pinfile = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("ssh", ["ssh", "-p", port, "-o", "StrictHostKeyChecking=no",
                      "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                      "-o", "PreferredAuthentications=keyboard-interactive",
                      "-o", "PubkeyAuthentication=no", "root@127.0.0.1"])

seen = b""
deadline = time.time() + 40
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    seen += data
    if seen.rstrip().endswith(b"assword:"):
        os.write(fd, b"secret\n")
        seen = b""
    elif seen.rstrip().endswith(b"PIN:"):
        while not os.path.exists(pinfile) and time.time() < deadline:
            time.sleep(0.1)
        with open(pinfile, "rb") as f:
            os.write(fd, f.read().strip() + b"\n")
        seen = b""
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
