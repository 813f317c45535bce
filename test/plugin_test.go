package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlugins: the example plugins through the real module (as root, a
// user NSS knows here): a prompt
// answered at the application's conversation, its answer in the log, and
// a network rule on PAM_RHOST.
func TestPlugins(t *testing.T) {
	s := newPAMStack(t, "DEFAULT:OPEN\nSSH reason GROUP ALL\nSSH networks GROUP ALL\n")
	plugins := filepath.Join(s.dir, "plugins")
	must(t, os.Mkdir(plugins, 0o755))
	for _, p := range []string{"reason", "networks"} {
		data, err := os.ReadFile(filepath.Join("..", "examples", "plugins", p+".star"))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(plugins, p+".star"), data, 0o644))
	}
	run := func(rhost, typed string) (string, int, []string) {
		mark := sink.Mark()
		cmd := command("pamtester", "-I", "rhost="+rhost, "sshd", "root", "authenticate")
		cmd.Env = append(os.Environ(), "LD_PRELOAD="+libPAMWrapper(t), "PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+s.svc)
		cmd.Stdin = strings.NewReader(typed)
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			code = 1
		}
		return string(out), code, sink.Since(mark)
	}
	out, code, lines := run("10.1.2.3", "restart the web server\n")
	if code != 0 || !strings.Contains(out, "Reason for this login:") {
		t.Fatalf("with a reason from the office: exit %d\n%s\n%s", code, out, strings.Join(lines, "\n"))
	}
	if len(grep(lines, `plugin: reason for root's login from 10.1.2.3: restart the web server`)) != 1 {
		t.Errorf("the reason is not in the log:\n%s", strings.Join(lines, "\n"))
	}
	out, code, lines = run("10.1.2.3", "\n")
	if code == 0 || !strings.Contains(out, "A reason is required.") {
		t.Fatalf("without a reason: exit %d\n%s", code, out)
	}
	_, code, lines = run("203.0.113.5", "a good reason\n")
	if code == 0 || len(grep(lines, `CLOSE for "root"`, "plugin networks answered CLOSE")) != 1 {
		t.Fatalf("from outside the office: exit %d\n%s", code, strings.Join(lines, "\n"))
	}

	// a hostile plugin costs the login, within the limits, with a line
	must(t, os.WriteFile(filepath.Join(plugins, "reason.star"), []byte("def decide(ctx):\n    while True:\n        pass\n"), 0o644))
	_, code, lines = run("10.1.2.3", "")
	if code == 0 || len(grep(lines, `CLOSE for "root"`, "plugin reason", "too many steps")) != 1 {
		t.Fatalf("an endless plugin: exit %d\n%s", code, strings.Join(lines, "\n"))
	}
}
