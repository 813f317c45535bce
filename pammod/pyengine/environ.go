package pyengine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
)

// A script under pam_python runs inside the application and so sees the
// application's environment in os.environ. The interpreter here is a
// process of its own, started by the helper with an empty one; it gets the
// application's instead, as the kernel shows it (/proc/PID/environ: what
// the application was started with), with two differences, both because
// the script runs as root:
//
//   - The application was started by root (real uid 0: sshd, login, a
//     display manager): its environment, less what would change how the
//     interpreter or its libraries load (PYTHON*, LD_*), and host.py's own.
//   - It was started by a user (su, sudo, any setuid program: real uid not
//     0): only the locale and the terminal. Under pam_python that user's
//     whole environment reaches a root script, and with it such things as
//     HTTPS_PROXY or REQUESTS_CA_BUNDLE, which would send an OTP check to
//     a server of the user's choosing.
//
// PATH is always the helper's fixed one.

const fixedPath = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

// maxEnviron bounds what is read of an application's environment.
const maxEnviron = 256 << 10

// Environ is the environment for the interpreter of the login whose
// application is process p: see above. An application that cannot be read
// (gone, or another process now at its pid) gets the fixed environment
// only: its script then sees no environment rather than a stranger's.
func Environ(id loginstate.Identifier, p loginstate.Process) []string {
	proc := id.Proc
	if proc == "" {
		proc = "/proc"
	}
	dir := filepath.Join(proc, strconv.Itoa(int(p.PID)))
	uid, err := realUID(filepath.Join(dir, "status"))
	if err != nil {
		return []string{fixedPath}
	}
	raw, err := readCapped(filepath.Join(dir, "environ"), maxEnviron)
	if err != nil {
		return []string{fixedPath}
	}
	// the pid may have been reused while we read
	if now, _, err := id.Stat(p.PID); err != nil || now != p {
		return []string{fixedPath}
	}
	return filterEnviron(raw, uid == 0)
}

// filterEnviron turns a NUL-separated environment into the interpreter's.
func filterEnviron(raw []byte, startedByRoot bool) []string {
	out := []string{fixedPath}
	seen := map[string]bool{"PATH": true}
	for _, entry := range bytes.Split(raw, []byte{0}) {
		name, _, ok := strings.Cut(string(entry), "=")
		if !ok || name == "" || seen[name] {
			continue
		}
		if !keep(name, startedByRoot) {
			continue
		}
		seen[name] = true
		out = append(out, string(entry))
	}
	return out
}

func keep(name string, startedByRoot bool) bool {
	if !startedByRoot {
		return name == "LANG" || name == "LANGUAGE" || name == "TERM" || strings.HasPrefix(name, "LC_")
	}
	if name == "PAMAC_CONSTANTS" || name == "PAMAC_STRERROR" {
		return false // host.py's own
	}
	return !strings.HasPrefix(name, "PYTHON") && !strings.HasPrefix(name, "LD_")
}

// realUID reads the real uid (the first of the Uid: line) from a
// /proc/PID/status file.
func realUID(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "Uid:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			return strconv.Atoi(fields[0])
		}
	}
	return 0, fmt.Errorf("%s: no Uid line", path)
}

// readCapped reads at most limit bytes of path; what lies beyond is
// dropped at the last whole entry.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		data = data[:limit]
		if i := bytes.LastIndexByte(data, 0); i >= 0 {
			data = data[:i]
		} else {
			data = nil
		}
	}
	return data, nil
}
