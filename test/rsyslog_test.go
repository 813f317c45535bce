package test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// rsyslog is a real rsyslogd on 127.0.0.1 with a UDP, a plain TCP and a
// TLS input (gtls, a certificate from a CA the test makes), writing what
// it receives, one line per message, to events.log.
type rsyslog struct {
	dir                       string
	udp, tcp, tls, mtls       int
	udpAddr, tcpAddr, tlsAddr string
	mtlsAddr                  string // TLS that wants a client certificate from the CA
	ca                        string // the test CA's PEM file
	confPath, pidPath         string
	cmd                       *exec.Cmd
}

// received is one message as rsyslog parsed it.
type received struct {
	input, pri, host, app, msgid, sd, msg string
}

func startRsyslog(t *testing.T) *rsyslog {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/rsyslogd"); err != nil {
			testenv.Missing(t, "rsyslogd (rsyslog, rsyslog-gnutls)")
		}
		bin = "/usr/sbin/rsyslogd"
	}
	dir := t.TempDir()
	r := &rsyslog{dir: dir, udp: freeUDPPort(t), tcp: freePort(t), tls: freePort(t), mtls: freePort(t)}
	r.udpAddr = fmt.Sprintf("127.0.0.1:%d", r.udp)
	r.tcpAddr = fmt.Sprintf("127.0.0.1:%d", r.tcp)
	r.tlsAddr = fmt.Sprintf("127.0.0.1:%d", r.tls)
	r.mtlsAddr = fmt.Sprintf("127.0.0.1:%d", r.mtls)
	r.ca = writeTestPKI(t, dir)
	must(t, os.Mkdir(filepath.Join(dir, "work"), 0o700))
	conf := fmt.Sprintf(`global(workDirectory="%[1]s/work" maxMessageSize="8k"
  DefaultNetstreamDriverCAFile="%[1]s/ca.pem"
  DefaultNetstreamDriverCertFile="%[1]s/server.pem"
  DefaultNetstreamDriverKeyFile="%[1]s/server.key")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="%[2]d" name="udp")
input(type="imtcp" address="127.0.0.1" port="%[3]d" name="tcp")
input(type="imtcp" address="127.0.0.1" port="%[4]d" name="tls"
  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="%[5]d" name="mtls"
  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
template(name="events" type="string"
  string="%%inputname%%\t%%pri%%\t%%hostname%%\t%%app-name%%\t%%msgid%%\t%%structured-data%%\t%%msg%%\n")
action(type="omfile" file="%[1]s/events.log" template="events")
`, dir, r.udp, r.tcp, r.tls, r.mtls)
	r.confPath = filepath.Join(dir, "rsyslog.conf")
	r.pidPath = filepath.Join(dir, "rsyslogd.pid")
	must(t, os.WriteFile(r.confPath, []byte(conf), 0o644))
	r.cmd = exec.Command(bin, "-n", "-f", r.confPath, "-i", r.pidPath)
	r.start(t)
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "rsyslogd.out"))
			t.Logf("rsyslogd said:\n%s", out)
		}
	})
	return r
}

func (r *rsyslog) start(t *testing.T) {
	t.Helper()
	if r.cmd.Process != nil { // a restart
		r.cmd = exec.Command(r.cmd.Path, r.cmd.Args[1:]...)
	}
	out, err := os.OpenFile(filepath.Join(r.dir, "rsyslogd.out"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	must(t, err)
	defer out.Close()
	r.cmd.Stdout, r.cmd.Stderr = out, out
	must(t, r.cmd.Start())
	waitListening(t, "rsyslogd", r.tcpAddr)
	// imudp and the TLS listener start with imtcp; give them a moment
	time.Sleep(200 * time.Millisecond)
}

func (r *rsyslog) stop() {
	if r.cmd == nil || r.cmd.Process == nil || r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
}

// waitFor returns the messages whose structured data contains every one
// of want, once there are n of them.
func (r *rsyslog) waitFor(t *testing.T, n int, want ...string) []received {
	t.Helper()
	var got []received
	for i := 0; i < 200; i++ {
		got = nil
		data, _ := os.ReadFile(filepath.Join(r.dir, "events.log"))
		for _, l := range strings.Split(string(data), "\n") {
			f := strings.SplitN(l, "\t", 7)
			if len(f) != 7 {
				continue
			}
			m := received{f[0], f[1], f[2], f[3], f[4], f[5], f[6]}
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(m.sd, w)
			}
			if ok {
				got = append(got, m)
			}
		}
		if len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	data, _ := os.ReadFile(filepath.Join(r.dir, "events.log"))
	t.Fatalf("rsyslog received %d messages with %q, want %d; all:\n%s", len(got), want, n, data)
	return nil
}

// loginID is the correlation id in a decision line of the helper.
func loginID(t *testing.T, lines []string) string {
	t.Helper()
	for _, l := range grep(lines, "auth: OPEN") {
		if _, rest, ok := strings.Cut(l, "login "); ok {
			return strings.TrimRight(strings.Fields(rest)[0], ")")
		}
	}
	t.Fatalf("no decision line with a login id in %q", lines)
	return ""
}

// TestRemoteSyslog: audit events reach a real rsyslog over UDP, TCP and
// TLS as RFC 5424 messages whose structured data rsyslog parses; TLS
// checks the server against SYSLOG_CA; a stopped or silent server costs
// the login nothing, and what it missed arrives when it is back.
func TestRemoteSyslog(t *testing.T) {
	s := newPAMStack(t, "")
	r := startRsyslog(t)
	login := func(settings string) string {
		t.Helper()
		must(t, os.WriteFile(s.rules, []byte(settings+"SSHD OPEN USER alice\n"), 0o644))
		mark := sink.Mark()
		if out, code := s.pamtester(t, []string{"rhost=10.2.2.2"}, "sshd", "alice",
			"authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
			t.Fatalf("refused:\n%s", out)
		}
		return loginID(t, sink.Since(mark))
	}

	for _, tc := range []struct{ input, setting string }{
		{"udp", "SYSLOG_SERVER:udp://" + r.udpAddr + "\n"},
		{"tcp", "SYSLOG_SERVER:tcp://" + r.tcpAddr + "\n"},
		{"tls", "SYSLOG_SERVER:tls://" + r.tlsAddr + "\nSYSLOG_CA:" + r.ca + "\n"},
		{"mtls", "SYSLOG_SERVER:tls://" + r.mtlsAddr + "\nSYSLOG_CA:" + r.ca + "\nSYSLOG_CERT:" + filepath.Join(r.dir, "client.pem") +
			"\nSYSLOG_KEY:" + filepath.Join(r.dir, "client.key") + "\n"},
	} {
		id := login(tc.setting)
		got := r.waitFor(t, 3, `login="`+id+`"`)
		host, _ := os.Hostname()
		for i, kind := range []string{"decision", "session_open", "session_close"} {
			m := got[i]
			if m.input != tc.input || m.msgid != kind || m.pri != "86" || m.app != "pam-accesscontrol" || m.host != host ||
				!strings.HasPrefix(m.sd, "[pamac@32473 ") || !strings.Contains(m.sd, `user="alice"`) ||
				!strings.Contains(m.sd, `rhost="10.2.2.2"`) || !strings.Contains(m.sd, `service="sshd"`) {
				t.Errorf("%s: message %d: %+v", tc.input, i, m)
			}
		}
		if d := got[0]; !strings.Contains(d.sd, `verdict="OPEN"`) || !strings.Contains(d.sd, `rule="`+s.rules+`:`) ||
			!strings.Contains(d.msg, `decision OPEN for "alice"`) {
			t.Errorf("%s: decision %+v", tc.input, d)
		}
	}

	// TLS without the CA: the server is not trusted, nothing is sent, the
	// deliverer says why
	mark := sink.Mark()
	login("SYSLOG_SERVER:tls://" + r.tlsAddr + "\n")
	if !waitLine(mark, "syslog tls://"+r.tlsAddr, "certificate", "kept for the next try") {
		t.Errorf("no line about the untrusted certificate: %q", sink.Since(mark))
	}

	// a server that wants a client certificate gets none: nothing arrives
	mark = sink.Mark()
	id := login("SYSLOG_SERVER:tls://" + r.mtlsAddr + "\nSYSLOG_CA:" + r.ca + "\n")
	if !waitLine(mark, "syslog tls://"+r.mtlsAddr, "kept for the next try") {
		t.Errorf("no line about the refused connection: %q", sink.Since(mark))
	}
	if data, _ := os.ReadFile(filepath.Join(r.dir, "events.log")); strings.Contains(string(data), id) {
		t.Error("events arrived without a client certificate")
	}

	// a server that accepts and never answers the TLS handshake: the login
	// is as quick as ever, the deliverer gives up after SYSLOG_TIMEOUT
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	must(t, os.WriteFile(s.rules, []byte("SYSLOG_SERVER:tls://"+silent.Addr().String()+"\nSYSLOG_CA:"+r.ca+
		"\nSYSLOG_TIMEOUT:2\nSSHD OPEN USER alice\n"), 0o644))
	mark = sink.Mark()
	start := time.Now()
	if _, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != 0 {
		t.Fatal("a silent log server denied the login")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the login took %v with a silent log server (SYSLOG_TIMEOUT:2)", d)
	}
	if !waitLine(mark, "syslog tls://"+silent.Addr().String(), "kept for the next try") {
		t.Errorf("the deliverer did not give up: %q", sink.Since(mark))
	} else if d := time.Since(start); d > 6*time.Second {
		t.Errorf("the deliverer gave up after %v, SYSLOG_TIMEOUT is 2 s", d)
	}
	os.RemoveAll(filepath.Join(s.dir, "spool", "outbox")) // forget the silent server's events

	// rsyslog stopped: the login is not delayed, its events wait; once
	// rsyslog is back, the next login's deliverer sends both, in order
	r.stop()
	start = time.Now()
	missed := login("SYSLOG_SERVER:tcp://" + r.tcpAddr + "\nSYSLOG_TIMEOUT:2\n")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a full login took %v with the log server stopped", d)
	}
	r.start(t)
	later := login("SYSLOG_SERVER:tcp://" + r.tcpAddr + "\nSYSLOG_TIMEOUT:2\n")
	r.waitFor(t, 3, `login="`+missed+`"`)
	r.waitFor(t, 3, `login="`+later+`"`)
}

// waitLine waits up to 10 s for a syslog line with every one of want.
func waitLine(mark int, want ...string) bool {
	for i := 0; i < 100; i++ {
		if len(grep(sink.Since(mark), want...)) > 0 {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// freeUDPPort returns a UDP port nobody listens on now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// writeTestPKI writes a CA (ca.pem) and a server certificate for
// 127.0.0.1 and localhost signed by it (server.pem, server.key) and a
// client certificate (client.pem, client.key) into dir, and returns the
// CA's path.
func writeTestPKI(t *testing.T, dir string) string {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pam-accesscontrol test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	must(t, err)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, err := x509.ParseCertificate(caDER)
	must(t, err)
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	must(t, err)
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	must(t, err)
	write := func(name, kind string, der []byte, mode os.FileMode) {
		must(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode))
	}
	write("ca.pem", "CERTIFICATE", caDER, 0o644)
	write("server.pem", "CERTIFICATE", srvDER, 0o644)
	write("server.key", "EC PRIVATE KEY", keyDER, 0o600)
	cliKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	cli := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "client.example.org"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"client.example.org"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cliDER, err := x509.CreateCertificate(rand.Reader, cli, caCert, &cliKey.PublicKey, caKey)
	must(t, err)
	cliKeyDER, err := x509.MarshalECPrivateKey(cliKey)
	must(t, err)
	write("client.pem", "CERTIFICATE", cliDER, 0o644)
	write("client.key", "EC PRIVATE KEY", cliKeyDER, 0o600)
	return filepath.Join(dir, "ca.pem")
}
