package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Frames a fake helper can send, in printf's octal (see pammod/protocol).
const (
	resultSuccess  = `\000\000\000\007Xi\000\000\000\000n` // PAM_SUCCESS, no login id to keep
	resultTooLarge = `\000\000\000\007Xi\000\000\000\143n` // 99: not a PAM code
	resultV1       = `\000\000\000\006Xi\000\000\000\000`  // version 1's: the code alone
	resultIntLogin = `\000\000\000\013Xi\000\000\000\000i\000\000\000\001`
	unknownRequest = `\000\000\000\001Q`
	badFieldKind   = `\000\000\000\002Xz`
)

// awaitCall makes a fake helper wait for the module's call before it
// answers, as the real one does. A helper that is gone before the module
// has sent its call is "helper went away", whatever it wrote: a race the
// cases below must not depend on.
const awaitCall = "head -c 1 <&3 >/dev/null; "

// fakeHelper writes a shell script that stands in for the helper.
func fakeHelper(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "fake-helper")
	must(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return path
}

// TestPAMFailsClosed: whatever goes wrong with the helper, the login is
// denied (never PAM_SUCCESS), the host does not hang, and the shim logs
// one line saying why.
func TestPAMFailsClosed(t *testing.T) {
	tests := []struct {
		name   string
		helper string // script body; "" for an option-only case
		opts   []string
		chmod  os.FileMode
		log    string // in the shim's syslog line
	}{
		{name: "missing helper", opts: []string{"helper=/nonexistent/pam-accesscontrol-helper"}, log: "helper /nonexistent/pam-accesscontrol-helper: No such file or directory; denying"},
		{name: "relative helper path", opts: []string{"helper=pam-accesscontrol-helper"}, log: "is not an absolute path; denying"},
		{name: "helper writable by others", helper: awaitCall + "printf '" + resultSuccess + "' >&3", chmod: 0o777, log: "is not a root-owned file writable only by its owner"},
		{name: "helper not executable", helper: "true", chmod: 0o644, log: "helper could not be executed"},
		{name: "Go panic exit status", helper: "exit 2", log: "helper crashed (Go panic)"},
		{name: "crash by signal", helper: "kill -SEGV $$", log: "helper killed by a signal"},
		{name: "hang", helper: "exec sleep 600", opts: []string{"timeout=2"}, log: "timed out"},
		{name: "oversize frame", helper: awaitCall + "printf '\\000\\001\\000\\001X' >&3; sleep 1", log: "frame length out of range"},
		{name: "garbage", helper: awaitCall + "printf 'garbage!' >&3; sleep 1", log: "frame length out of range"},
		{name: "bad field kind", helper: awaitCall + "printf '" + badFieldKind + "' >&3; sleep 1", log: "unknown field kind"},
		{name: "unknown request", helper: awaitCall + "printf '" + unknownRequest + "' >&3; sleep 1", log: "unknown request"},
		{name: "result out of range", helper: awaitCall + "printf '" + resultTooLarge + "' >&3", log: "result out of range"},
		{name: "result of another version", helper: awaitCall + "printf '" + resultV1 + "' >&3", log: "result out of range"},
		{name: "result with an int for its login id", helper: awaitCall + "printf '" + resultIntLogin + "' >&3", log: "result out of range"},
		{name: "success, then a failing exit", helper: awaitCall + "printf '" + resultSuccess + "' >&3; exit 1", log: "helper did not exit cleanly"},
		{name: "success, then no exit", helper: awaitCall + "printf '" + resultSuccess + "' >&3; exec sleep 600", log: "helper did not exit cleanly"},
		{name: "bad timeout option", helper: awaitCall + "printf '" + resultSuccess + "' >&3", opts: []string{"timeout=soon"}, log: "bad option timeout=soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newPAMStack(t, "DEFAULT:OPEN\n")
			opts := tt.opts
			if tt.helper != "" {
				path := fakeHelper(t, s.dir, tt.helper)
				if tt.chmod != 0 {
					must(t, os.Chmod(path, tt.chmod))
				}
				opts = append(opts, "helper="+path)
			}
			line := s.moduleLine(opts...)
			s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\n")
			mark := sink.Mark()
			start := time.Now()
			out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt")
			if code == 0 || strings.Contains(out, "successfully authenticated") {
				t.Fatalf("the login got in:\n%s", out)
			}
			if !strings.Contains(out, "System error") {
				t.Errorf("want PAM_SYSTEM_ERR (System error):\n%s", out)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %v: the host must not wait long", d)
			}
			lines := grep(sink.Since(mark), "pam_accesscontrol(sshd:auth)", tt.log)
			if len(lines) != 1 {
				t.Errorf("want one shim log line with %q, got %q\nall: %q", tt.log, lines, sink.Since(mark))
			}
		})
	}
}

// TestPAMInsecureConfig: a rules file others could write is refused and the
// login denied, with a line naming the file and the fix.
func TestPAMInsecureConfig(t *testing.T) {
	s := newPAMStack(t, "DEFAULT:OPEN\n")
	must(t, os.Chmod(s.rules, 0o666))
	mark := sink.Mark()
	out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate")
	if code == 0 {
		t.Fatalf("the login got in:\n%s", out)
	}
	lines := grep(sink.Since(mark), "pam-accesscontrol[", "CLOSE for \"alice\"", s.rules, "writable by group or others", "chmod go-w")
	if len(lines) != 1 {
		t.Errorf("want one line naming the file and the fix, got %q", sink.Since(mark))
	}
}

// TestPAMUnsafeRunDir: a run directory that others may write (where a
// planted decision would let anyone in) or that is not root's denies every
// login, with one line saying which directory and the fix; a planted
// decision is never read.
func TestPAMUnsafeRunDir(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		spoil      func(dir string) error
	}{
		{"world-writable", "chmod go-w", func(dir string) error { return os.Chmod(dir, 0o777) }},
		{"group-writable", "chmod go-w", func(dir string) error { return os.Chmod(dir, 0o770) }},
		{"another user's", "chown root", func(dir string) error { return os.Chown(dir, 65534, 65534) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newPAMStack(t, "DEFAULT:OPEN\n")
			run := filepath.Join(s.dir, "run")
			must(t, os.Mkdir(run, 0o700))
			must(t, tt.spoil(run))
			for _, fn := range []string{"authenticate", "acct_mgmt", "open_session"} {
				mark := sink.Mark()
				out, code := s.pamtester(t, nil, "sshd", "alice", fn)
				if code == 0 {
					t.Fatalf("%s got in with an unsafe run directory:\n%s", fn, out)
				}
				if lines := grep(sink.Since(mark), "pam-accesscontrol[", run, tt.want, "denying"); len(lines) != 1 {
					t.Errorf("%s: want one line naming %s and the fix, got %q", fn, run, sink.Since(mark))
				}
			}
		})
	}
}

// TestHelperEnvironment: the helper gets /dev/null for stdin, stdout and
// stderr, the socket on fd 3, no other descriptor of the host, and a
// fixed environment without the host's variables.
func TestHelperEnvironment(t *testing.T) {
	s := newPAMStack(t, "")
	report := filepath.Join(s.dir, "report")
	// ls lists the shell's descriptors from outside, so the listing
	// itself opens none in the shell; 9 is the report
	script := fakeHelper(t, s.dir, `exec 9>`+report+`
ls -l /proc/$$/fd | sed -n 's/.* \([0-9]*\) -> \(.*\)/fd \1 \2/p' >&9
env >&9
printf '`+resultSuccess+`' >&3`)
	line := s.moduleLine("helper=" + script)
	s.service(t, "sshd", "auth required "+line+"\n")
	out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	data, err := os.ReadFile(report)
	must(t, err)
	if !strings.Contains(string(data), "fd 3 socket:") || !strings.Contains(string(data), "\nPATH=") {
		t.Fatalf("the report lacks the socket or PATH:\n%s", data)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 3 && f[0] == "fd" && (f[1] == "0" || f[1] == "1" || f[1] == "2"):
			if f[2] != "/dev/null" {
				t.Errorf("%s: want /dev/null", l)
			}
		case len(f) == 3 && f[0] == "fd" && f[1] == "3":
			if !strings.HasPrefix(f[2], "socket:") {
				t.Errorf("%s: want the socket", l)
			}
		case len(f) == 3 && f[0] == "fd":
			if f[2] != script && f[2] != report { // the shell's handle on its script, the report
				t.Errorf("descriptor leaked into the helper: %s", l)
			}
		case strings.HasPrefix(l, "PATH="):
			if l != "PATH=/usr/sbin:/usr/bin:/sbin:/bin" {
				t.Errorf("%s", l)
			}
		case l == "LANG=C.UTF-8", strings.HasPrefix(l, "PWD="):
		default:
			t.Errorf("unexpected in the helper's environment: %q", l)
		}
	}
}
