// Command demo is `make demo`: real PAM logins through the built module
// for the users and rules of examples/, each with its decision and the log
// line that says why; then explain for what the module cannot show yet (an
// approved ASK session), and check-my-config on a file full of mistakes.
//
// The example users (examples/demo/passwd, group) exist only for the
// helper: nss_wrapper shows them to the C library instead of the system's.
// PAM runs through pam_wrapper with a private service directory, so
// nothing under /etc changes. systemd-logind, which NUMBER asks, needs
// systemd as PID 1: a stand-in answers on a private system bus. It needs
// root (for the syslog receiver).
//
//	demo -build build -examples examples
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/syslogsink"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
)

func main() {
	build := flag.String("build", "build", "directory of the built module, helper and command")
	examples := flag.String("examples", "examples", "the examples directory")
	flag.Parse()
	if err := run(*build, *examples); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type demo struct {
	dir, build, examples, svc string
	sink                      *syslogsink.Sink
	pamEnv                    []string
	bus                       *testbus.Bus
	logind                    *logindtest.Fake
}

func run(build, examples string) error {
	var err error
	d := &demo{}
	if d.build, err = filepath.Abs(build); err != nil {
		return err
	}
	if d.examples, err = filepath.Abs(examples); err != nil {
		return err
	}
	if d.dir, err = os.MkdirTemp("", "pamac-demo"); err != nil {
		return err
	}
	defer os.RemoveAll(d.dir)
	os.Chmod(d.dir, 0o755)
	if d.bus, err = testbus.StartBus(); err != nil {
		return fmt.Errorf("a private system bus: %v", err)
	}
	defer d.bus.Stop()
	if d.logind, err = logindtest.New(d.bus.Address); err != nil {
		return err
	}
	defer d.logind.Close()
	if err := d.setUp(); err != nil {
		return err
	}
	if d.sink, err = syslogsink.Start(); err != nil {
		return fmt.Errorf("%v (the demo needs root)", err)
	}
	defer d.sink.Close()

	rules, _ := os.ReadFile(filepath.Join(d.examples, "pam-accesscontrol.conf"))
	fmt.Printf("Rules (examples/pam-accesscontrol.conf):\n%s", indent(string(rules)))
	fmt.Println("Users: alice (admins, users), bob (users), carol (lp, users), dave (no group).")
	fmt.Println("Each login is a real PAM transaction (pamtester) through build/pam_accesscontrol.so.")

	d.login("alice by password from 10.66.1.2: the HOST rule closes, CLOSE beats OPEN",
		"rhost=10.66.1.2", "sshd", "alice", "authenticate", "acct_mgmt", "open_session", "close_session")
	d.login("alice by key from 198.51.100.4 (no PAM authentication: an SSHD-KEY login): SSH OPEN GROUP admins",
		"rhost=198.51.100.4", "sshd", "alice", "acct_mgmt", "open_session", "close_session")
	d.login("carol (lp) by key: ASK; nobody sits at this machine's desktop, so ASK_FALLBACK (CLOSE) decides",
		"rhost=192.0.2.7", "sshd", "carol", "acct_mgmt", "open_session")
	d.login("bob (users) at sddm, nobody else logged in: SDDM OPEN GROUP users",
		"", "sddm", "bob", "authenticate", "acct_mgmt", "open_session", "close_session")
	fmt.Println("\n(carol logs in at sddm: the stand-in systemd-logind now lists her session)")
	d.logind.Add(logindtest.Session{ID: "2", UID: 1003, User: "carol", Service: "sddm", Type: "x11",
		Class: "user", State: "active", Seat: "seat0"})
	d.login("bob (users) at sddm while carol (users) is logged in: NUMBER users:1 is full",
		"", "sddm", "bob", "authenticate", "acct_mgmt", "open_session", "close_session")
	d.logind.Remove("2")
	d.login("dave at the console: no rule applies, DEFAULT:CLOSE",
		"", "login", "dave", "authenticate")

	fmt.Println("\nWith a desktop owner who allowed carol's first login (make test does that with the real popup),")
	fmt.Println("her next one from the same host is not asked about; explain shows it with a session list:")
	d.explain("carol by key while her approved session from that host is live: no second popup",
		"--service", "sshd", "--user", "carol", "--rhost", "192.0.2.7", "--auth", "key", "--sessions", "sessions-carol-ssh.json")

	if err := d.pluginsAndScripts(); err != nil {
		return err
	}
	if err := d.auditTrail(); err != nil {
		return err
	}

	heading("check-my-config on a file full of mistakes")
	fmt.Println("$ pam-accesscontrol check-my-config examples/broken.conf")
	cmd := exec.Command(filepath.Join(d.build, "pam-accesscontrol"), "check-my-config", "examples/broken.conf")
	cmd.Dir = filepath.Dir(d.examples)
	out, err := cmd.CombinedOutput()
	fmt.Print(string(out))
	fmt.Printf("(exit status %d: problems found)\n", cmd.ProcessState.ExitCode())
	if cmd.ProcessState.ExitCode() != 1 {
		return fmt.Errorf("check-my-config: %v", err)
	}
	return nil
}

// setUp writes the PAM services, a copy of the rules owned by root (the
// module trusts no other) and the helper wrapped in nss_wrapper.
func (d *demo) setUp() error {
	nssWrapper, err := findLib("libnss_wrapper.so")
	if err != nil {
		return err
	}
	pamWrapper, err := findLib("libpam_wrapper.so")
	if err != nil {
		return err
	}
	d.svc = filepath.Join(d.dir, "svc")
	if err := os.Mkdir(d.svc, 0o755); err != nil {
		return err
	}
	files := map[string]string{"pam-accesscontrol.conf": "", "demo/sessions-carol.json": "", "demo/sessions-carol-ssh.json": ""}
	for f := range files {
		data, err := os.ReadFile(filepath.Join(d.examples, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d.dir, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	helper := filepath.Join(d.dir, "helper")
	script := fmt.Sprintf("#!/bin/sh\nexec env LD_PRELOAD=%s NSS_WRAPPER_PASSWD=%s NSS_WRAPPER_GROUP=%s DBUS_SYSTEM_BUS_ADDRESS=%s %s\n",
		nssWrapper, filepath.Join(d.examples, "demo/passwd"), filepath.Join(d.examples, "demo/group"),
		d.bus.Address, filepath.Join(d.build, "pam-accesscontrol-helper"))
	if err := os.WriteFile(helper, []byte(script), 0o755); err != nil {
		return err
	}
	module := fmt.Sprintf("%s helper=%s conf=%s socket=none rundir=%s logdir=%s",
		filepath.Join(d.build, "pam_accesscontrol.so"), helper, filepath.Join(d.dir, "pam-accesscontrol.conf"),
		filepath.Join(d.dir, "run"), d.dir)
	stack := fmt.Sprintf("auth required %[1]s\naccount required %[1]s\nsession required %[1]s\n", module)
	for _, s := range []string{"sshd", "sddm", "login"} {
		if err := os.WriteFile(filepath.Join(d.svc, s), []byte(stack), 0o644); err != nil {
			return err
		}
	}
	d.pamEnv = append(os.Environ(), "LD_PRELOAD="+pamWrapper, "PAM_WRAPPER=1",
		"PAM_WRAPPER_SERVICE_DIR="+d.svc, "PAM_WRAPPER_USE_SYSLOG=1")
	return nil
}

// pluginsAndScripts shows a rule plugin (examples/plugins/networks.star)
// and a pam_python script (examples/scripts/pam_nologin.py) at work.
func (d *demo) pluginsAndScripts() error {
	plugins := filepath.Join(d.dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"plugins/networks.star", "scripts/pam_nologin.py"} {
		data, err := os.ReadFile(filepath.Join(d.examples, f))
		if err != nil {
			return err
		}
		dst := filepath.Join(d.dir, f)
		if filepath.Dir(f) == "scripts" {
			dst = filepath.Join(d.dir, filepath.Base(f))
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	conf := filepath.Join(d.dir, "plugins.conf")
	nologin := filepath.Join(d.dir, "nologin")
	files := map[string]string{
		conf:    "DEFAULT:OPEN\nSSH networks GROUP ALL\n",
		nologin: "The machine is down for maintenance until 18:00.\n",
		filepath.Join(d.dir, "svc-plugin", "sshd"): fmt.Sprintf("account required %s helper=%s conf=%s socket=none rundir=%s logdir=%s\n",
			filepath.Join(d.build, "pam_accesscontrol.so"), filepath.Join(d.dir, "helper"), conf, filepath.Join(d.dir, "run"), d.dir),
		filepath.Join(d.svc, "nologin"): fmt.Sprintf("auth required %s helper=%s socket=none %s %s\n",
			filepath.Join(d.build, "pam_accesscontrol.so"), filepath.Join(d.dir, "helper"), filepath.Join(d.dir, "pam_nologin.py"), nologin),
	}
	if err := os.Mkdir(filepath.Join(d.dir, "svc-plugin"), 0o755); err != nil {
		return err
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	fmt.Println("\nA rule plugin: `SSH networks GROUP ALL` runs examples/plugins/networks.star (office networks only, unless in group travel).")
	main := d.pamEnv // the plugin rule has its own sshd service
	d.pamEnv = append(append([]string(nil), main...), "PAM_WRAPPER_SERVICE_DIR="+filepath.Join(d.dir, "svc-plugin"))
	d.login("alice by key from the office network 10.1.2.3: the plugin has no objection",
		"rhost=10.1.2.3", "sshd", "alice", "acct_mgmt")
	d.login("alice by key from 203.0.113.5: the plugin says CLOSE",
		"rhost=203.0.113.5", "sshd", "alice", "acct_mgmt")
	d.pamEnv = main
	fmt.Println("\nA pam_python script: pam_python's own pam_nologin.py, ported, run by `pam_accesscontrol.so pam_nologin.py NOLOGIN-FILE`.")
	d.login("bob while the nologin file exists: refused, with its text", "", "nologin", "bob", "authenticate")
	d.login("root while the nologin file exists: let in, shown the text", "", "nologin", "root", "authenticate")
	return nil
}

// auditTrail shows one login's audit events: as JSON lines (AUDIT_LOG) and
// as the RFC 5424 messages a central syslog server receives
// (SYSLOG_SERVER, here a UDP socket of this program).
func (d *demo) auditTrail() error {
	logs, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer logs.Close()
	svc := filepath.Join(d.dir, "svc-audit")
	conf := filepath.Join(d.dir, "audit.conf")
	auditLog := filepath.Join(d.dir, "audit.jsonl")
	rules := fmt.Sprintf("AUDIT_LOG:%s\nSYSLOG_SERVER:udp://%s\nSSH OPEN GROUP admins\n", auditLog, logs.LocalAddr())
	module := fmt.Sprintf("%s helper=%s conf=%s socket=none rundir=%s logdir=%s",
		filepath.Join(d.build, "pam_accesscontrol.so"), filepath.Join(d.dir, "helper"), conf, filepath.Join(d.dir, "run"), d.dir)
	if err := os.Mkdir(svc, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		conf:                       rules,
		filepath.Join(svc, "sshd"): fmt.Sprintf("account required %[1]s\nsession required %[1]s\n", module),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("\nThe audit trail, with these settings:\n%s", indent(strings.Replace(rules, "SSH OPEN", "SSH  OPEN", 1)))
	main := d.pamEnv
	d.pamEnv = append(append([]string(nil), main...), "PAM_WRAPPER_SERVICE_DIR="+svc)
	d.login("alice by key from 198.51.100.4, a whole session: three events with one correlation id",
		"rhost=198.51.100.4", "sshd", "alice", "acct_mgmt", "open_session", "close_session")
	d.pamEnv = main

	data, err := os.ReadFile(auditLog)
	if err != nil {
		return err
	}
	fmt.Printf("%s (AUDIT_LOG):\n%s", auditLog, indent(string(data)))
	fmt.Println("received by the central syslog server (SYSLOG_SERVER, RFC 5424 over UDP; a detached deliverer sends them):")
	buf := make([]byte, 4096)
	for i := 0; i < 3; i++ {
		logs.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := logs.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("the syslog server received %d of 3 events: %v", i, err)
		}
		fmt.Println("  " + string(buf[:n]))
	}
	return nil
}

// login runs one PAM transaction and shows its outcome and log line.
func (d *demo) login(what, rhost, service, user string, ops ...string) {
	heading(what)
	args := []string{service, user}
	if rhost != "" {
		args = append([]string{"-I", rhost}, args...)
	}
	args = append(args, ops...)
	fmt.Printf("$ pamtester %s\n", strings.Join(args, " "))
	mark := d.sink.Mark()
	cmd := d.sink.Command("pamtester", args...)
	cmd.Env = d.pamEnv
	out, _ := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "PWRAP_") {
			fmt.Println("  " + sc.Text())
		}
	}
	fmt.Printf("  => %s (pamtester exit status %d)\n", map[bool]string{true: "logged in", false: "refused"}[cmd.ProcessState.ExitCode() == 0],
		cmd.ProcessState.ExitCode())
	for _, l := range d.sink.Since(mark) {
		if i := strings.Index(l, "pam-accesscontrol["); i >= 0 {
			fmt.Println("  syslog: " + strings.TrimSpace(l[i:]))
		}
	}
}

// explain shows the first lines of explain's answer.
func (d *demo) explain(what string, args ...string) {
	heading(what)
	fmt.Printf("$ pam-accesscontrol explain --conf pam-accesscontrol.conf %s\n", strings.Join(args, " "))
	nssWrapper, _ := findLib("libnss_wrapper.so")
	cmd := exec.Command(filepath.Join(d.build, "pam-accesscontrol"), append([]string{"explain", "--conf", "pam-accesscontrol.conf"}, args...)...)
	cmd.Dir = d.dir
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+nssWrapper, "NSS_WRAPPER_PASSWD="+filepath.Join(d.examples, "demo/passwd"),
		"NSS_WRAPPER_GROUP="+filepath.Join(d.examples, "demo/group"))
	out, _ := cmd.Output()
	lines := strings.SplitN(string(out), "\n", 4)
	fmt.Print(indent(strings.Join(lines[:min(3, len(lines))], "\n") + "\n"))
}

func heading(s string) { fmt.Printf("\n== %s\n", s) }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

func findLib(name string) (string, error) {
	m, _ := filepath.Glob("/usr/lib/*/" + name)
	if len(m) == 0 {
		return "", fmt.Errorf("%s not found", name)
	}
	return m[0], nil
}
