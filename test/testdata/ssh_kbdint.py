# Logs in with a real ssh client by keyboard-interactive on a pty, as a
# person would, answering each prompt it knows.
#   ssh_kbdint.py PORT PROMPT ANSWER [PROMPT ANSWER ...]
# A prompt is matched by the end of what the client printed ("Second
# word:"). An ANSWER "@FILE" is the contents of FILE, once the test has
# written it (a PIN that arrives by mail). One attempt only; 40 s at most.
# The user is $KBDINT_USER, root when unset.
# Exits with ssh's status.
import os
import pty
import select
import sys
import time

port, pairs = sys.argv[1], sys.argv[2:]
answers = {pairs[i].encode(): pairs[i + 1].encode() for i in range(0, len(pairs), 2)}
pid, fd = pty.fork()
if pid == 0:
    os.execvp("ssh", ["ssh", "-p", port, "-o", "StrictHostKeyChecking=no",
                      "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                      "-o", "ConnectTimeout=10", "-o", "NumberOfPasswordPrompts=1",
                      "-o", "PreferredAuthentications=keyboard-interactive",
                      "-o", "PubkeyAuthentication=no", os.environ.get("KBDINT_USER", "root") + "@127.0.0.1"])

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
    for prompt, answer in answers.items():
        if seen.rstrip().endswith(prompt):
            if answer.startswith(b"@"):
                path = answer[1:].decode()
                while not os.path.exists(path) and time.time() < deadline:
                    time.sleep(0.1)
                with open(path, "rb") as f:
                    answer = f.read().strip()
            os.write(fd, answer + b"\n")
            seen = b""
            break
else:
    os.kill(pid, 9)
    print("ssh_kbdint.py: no end within 40 s", file=sys.stderr)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
