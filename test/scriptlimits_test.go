package test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPluginOpensFIFO plays a user who puts a FIFO where a rule plugin
// reads a file under /tmp, through the daemon: each login is refused at
// once with a line saying why, instead of waiting for the module's
// timeout with a daemon thread stranded in open(2); once the file is a
// file again, the plugin decides.
func TestPluginOpensFIFO(t *testing.T) {
	tmp := t.TempDir()
	must(t, os.Chmod(tmp, os.ModeSticky|0o777)) // a /tmp
	motd := filepath.Join(tmp, "motd")
	s := newPAMStack(t, "DEFAULT:CLOSE\nSSH motd GROUP ALL\n")
	plugins := filepath.Join(s.dir, "plugins")
	must(t, os.Mkdir(plugins, 0o755))
	must(t, os.WriteFile(filepath.Join(plugins, "motd.star"), []byte(
		"def decide(ctx):\n    if open(\""+motd+"\").read() == \"open\\n\":\n        return \"OPEN\"\n    return \"CLOSE\"\n"), 0o644))
	socket, _ := startDaemon(t, s.dir)
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper", "timeout=20")
	s.service(t, "sshd", "auth required "+line+"\n")

	must(t, syscall.Mkfifo(motd, 0o666))
	for i := 0; i < 3; i++ {
		mark := sink.Mark()
		start := time.Now()
		out, code := s.pamtester(t, nil, "sshd", "root", "authenticate")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("login %d took %v", i+1, took)
		}
		if code == 0 {
			t.Fatalf("login %d got in:\n%s", i+1, out)
		}
		if !waitLine(mark, `CLOSE for "root"`, "plugin motd", motd+" is not a regular file (a FIFO)") {
			t.Fatalf("login %d: no line saying why in %q", i+1, sink.Since(mark))
		}
	}
	must(t, os.Remove(motd))
	must(t, os.WriteFile(motd, []byte("open\n"), 0o644))
	if out, code := s.pamtester(t, nil, "sshd", "root", "authenticate"); code != 0 {
		t.Fatalf("with a file: exit %d\n%s", code, out)
	}
}

// TestScriptMemoryBombs: a pam_python script that allocates without end,
// through the real module, ends in PAM_SERVICE_ERR with a line saying it
// went past its memory limit, not in a helper the kernel kills for
// memory (or a machine out of it).
func TestScriptMemoryBombs(t *testing.T) {
	for name, body := range map[string]string{
		"doubling":    "    s = \"x\"\n    for i in range(64):\n        s = s + s\n",
		"list(range)": "    l = list(range(1 << 40))\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bomb.py")
			must(t, os.WriteFile(path, []byte("def pam_sm_authenticate(pamh, flags, argv):\n"+body+"    return 0\n"), 0o644))
			s := scriptStack(t, path)
			mark := sink.Mark()
			out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate")
			if code == 0 || !strings.Contains(out, "Error in service module") {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			if !waitLine(mark, "pam-accesscontrol[", "bomb.py", "its memory limit (256 MiB)") {
				t.Errorf("no line about the memory limit: %q", sink.Since(mark))
			}
		})
	}
}
