package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestRsyslogREADMEConfig: the receiving rsyslog's configuration the
// README gives ("A central syslog server") works as written: run by a real
// rsyslogd, with only its certificate paths, port and output file pointed
// into the test's directory, it receives a login's events over TLS
// (SYSLOG_SERVER:tls://, SYSLOG_CA) and writes them with its template.
func TestRsyslogREADMEConfig(t *testing.T) {
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/rsyslogd"); err != nil {
			testenv.Missing(t, "rsyslogd (rsyslog, rsyslog-gnutls)")
		}
		bin = "/usr/sbin/rsyslogd"
	}
	readme := readFile(t, "../README.md")
	start := strings.Index(readme, "\nglobal(DefaultNetstreamDriverCAFile=")
	if start < 0 {
		t.Fatal("README.md has no rsyslog configuration starting with global(DefaultNetstreamDriverCAFile=")
	}
	block := readme[start+1:]
	block = block[:strings.Index(block, "\n```")+1]

	dir := t.TempDir()
	ca := writeTestPKI(t, dir)
	must(t, os.Mkdir(filepath.Join(dir, "work"), 0o700))
	port := freePort(t)
	fleetLog := filepath.Join(dir, "fleet.log")
	conf := block
	for _, r := range [][2]string{
		{`"/etc/ssl/logs-ca.pem"`, `"` + ca + `"`},
		{`"/etc/ssl/logs.pem"`, `"` + filepath.Join(dir, "server.pem") + `"`},
		{`"/etc/ssl/logs.key"`, `"` + filepath.Join(dir, "server.key") + `"`},
		{`port="6514"`, fmt.Sprintf(`port="%d"`, port)},
		{`"/var/log/pam-accesscontrol-fleet.log"`, `"` + fleetLog + `"`},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("the README's rsyslog configuration no longer has %s:\n%s", r[0], block)
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	// rsyslogd's own state stays in the test's directory
	conf = fmt.Sprintf("global(workDirectory=%q)\n", filepath.Join(dir, "work")) + conf
	r := &rsyslog{dir: dir, tcpAddr: fmt.Sprintf("127.0.0.1:%d", port)}
	r.confPath = filepath.Join(dir, "rsyslog.conf")
	r.pidPath = filepath.Join(dir, "rsyslogd.pid")
	must(t, os.WriteFile(r.confPath, []byte(conf), 0o644))
	r.cmd = exec.Command(bin, "-n", "-f", r.confPath, "-i", r.pidPath)
	r.start(t)
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "rsyslogd.out"))
			t.Logf("configuration:\n%s\nrsyslogd said:\n%s", conf, out)
		}
	})

	s := newPAMStack(t, fmt.Sprintf("SYSLOG_SERVER:tls://localhost:%d\nSYSLOG_CA:%s\nSSHD OPEN USER alice\n", port, ca))
	mark := sink.Mark()
	if out, code := s.pamtester(t, []string{"rhost=10.1.1.1"}, "sshd", "alice", "authenticate", "acct_mgmt"); code != 0 {
		t.Fatalf("refused:\n%s", out)
	}
	id := loginID(t, sink.Since(mark))
	host, _ := os.Hostname()
	want := " " + host + ` decision [pamac@32473 login="` + id + `" event="decision"`
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		data, _ := os.ReadFile(fleetLog)
		if got = string(data); strings.Contains(got, want) {
			break
		}
	}
	if !strings.Contains(got, want) || !strings.Contains(got, `verdict="OPEN"`) || !strings.Contains(got, `user="alice"`) {
		t.Errorf("%s holds %q, want a line with %q (the README's template: time, host, MSGID, structured data)", fleetLog, got, want)
	}
}
