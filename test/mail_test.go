package test

import (
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// smtpSink is Debian's aiosmtpd on 127.0.0.1, keeping every message it
// receives in a Maildir.
type smtpSink struct {
	addr, maildir string
	args          []string // more aiosmtpd options
	cmd           *exec.Cmd
	cred          *syscall.Credential // runs it as that user when set
}

// message is one received mail.
type message struct {
	header mail.Header
	body   string
}

// startSMTP starts aiosmtpd with more options, if any (--tlscert and
// --tlskey make it require STARTTLS).
func startSMTP(t *testing.T, args ...string) *smtpSink {
	t.Helper()
	return startSMTPWith(t, nil, filepath.Join(t.TempDir(), "Maildir"), args...)
}

// startSMTPWith is startSMTP as cred's user (nil: root), keeping mails
// in maildir.
func startSMTPWith(t *testing.T, cred *syscall.Credential, maildir string, args ...string) *smtpSink {
	t.Helper()
	if exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").Run() != nil {
		testenv.Missing(t, "python3-aiosmtpd")
	}
	m := &smtpSink{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), maildir: maildir, args: args, cred: cred}
	m.start(t)
	t.Cleanup(func() {
		m.stop()
		if t.Failed() {
			out, _ := os.ReadFile(m.maildir + ".log")
			t.Logf("aiosmtpd said:\n%s", out)
		}
	})
	return m
}

func (m *smtpSink) start(t *testing.T) {
	t.Helper()
	args := append([]string{"-m", "aiosmtpd", "-n", "-l", m.addr}, m.args...)
	m.cmd = exec.Command("/usr/bin/python3", append(args, "-c", "aiosmtpd.handlers.Mailbox", m.maildir)...)
	// what it says (a client that gives up on its certificate is a
	// traceback) is shown only when the test fails
	log, err := os.OpenFile(m.maildir+".log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	must(t, err)
	defer log.Close()
	m.cmd.Stdout, m.cmd.Stderr = log, log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: m.cred}
	must(t, m.cmd.Start())
	waitListening(t, "aiosmtpd", m.addr)
}

// waitListening waits up to 5 s for a server to accept on addr.
func waitListening(t *testing.T, server, addr string) {
	t.Helper()
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if i == 100 {
			t.Fatalf("%s does not listen on %s: %v", server, addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *smtpSink) stop() {
	if m.cmd != nil && m.cmd.ProcessState == nil {
		m.cmd.Process.Signal(syscall.SIGTERM)
		m.cmd.Wait()
	}
}

// messages returns what arrived, oldest first.
func (m *smtpSink) messages(t *testing.T) []message {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(m.maildir, "new"))
	type dated struct {
		at  time.Time
		msg message
	}
	var all []dated
	for _, e := range entries {
		f, err := os.Open(filepath.Join(m.maildir, "new", e.Name()))
		must(t, err)
		msg, err := mail.ReadMessage(f)
		must(t, err)
		body, _ := io.ReadAll(msg.Body)
		f.Close()
		info, _ := e.Info()
		all = append(all, dated{info.ModTime(), message{msg.Header, strings.ReplaceAll(string(body), "\r\n", "\n")}})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	out := make([]message, len(all))
	for i, d := range all {
		out[i] = d.msg
	}
	return out
}

// waitMessages waits up to 10 s for n messages.
func (m *smtpSink) waitMessages(t *testing.T, n int) []message {
	t.Helper()
	for i := 0; i < 100; i++ {
		if got := m.messages(t); len(got) >= n {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d mails arrived, want %d", len(m.messages(t)), n)
	return nil
}

// TestMailNotifications: mail-notification.conf and MAILSERVER send the
// original's mails about sessions of the listed services to a real SMTP
// server; a relay that is down costs the login nothing, and its mails
// arrive once it is back.
func TestMailNotifications(t *testing.T) {
	s := newPAMStack(t, "")
	relay := startSMTP(t)
	must(t, os.WriteFile(filepath.Join(s.dir, "mail-notification.conf"),
		[]byte("# who hears of sessions\nSSHD admin@example.org,sec@example.org\nLOGIN tty@example.org\n"), 0o644))
	must(t, os.WriteFile(s.rules, []byte("MAILSERVER:"+relay.addr+"\nMAIL_FROM:pamac@test.example.org\n"+
		"SSHD OPEN USER alice\nSSHD CLOSE USER bob\nSDDM OPEN USER alice\nTTY OPEN USER alice\n"), 0o644))

	if out, code := s.pamtester(t, []string{"rhost=10.2.2.2"}, "sshd", "alice",
		"authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
		t.Fatalf("refused:\n%s", out)
	}
	got := relay.waitMessages(t, 2)
	opened, closed := got[0], got[1]
	for _, m := range got {
		if m.header.Get("From") != "pamac@test.example.org" || m.header.Get("To") != "admin@example.org, sec@example.org" ||
			m.header.Get("X-MailFrom") != "pamac@test.example.org" || m.header.Get("X-RcptTo") != "admin@example.org, sec@example.org" ||
			m.header.Get("Date") == "" || m.header.Get("Message-Id") == "" {
			t.Errorf("headers %v", m.header)
		}
	}
	if subj := opened.header.Get("Subject"); subj != "[PAM-ACCESSCONTROL] 127.0.0.1 : sshd (creating new session)" {
		t.Errorf("subject %q", subj)
	}
	host, _ := os.Hostname()
	if want := "*** Security notification ***\n\nSource:  10.2.2.2\nTarget:  127.0.0.1 (" + host + ")\n" +
		"Service: sshd\nUser:    alice\n\nSuccessfully logged in\n"; opened.body != want {
		t.Errorf("new session mail:\n%q\nwant\n%q", opened.body, want)
	}
	if subj := closed.header.Get("Subject"); subj != "[PAM-ACCESSCONTROL] 127.0.0.1 : sshd (closing session)" {
		t.Errorf("subject %q", subj)
	}
	if want := "*** Security notification ***\n\nSession for user 'alice' is closed\n"; closed.body != want {
		t.Errorf("closed session mail:\n%q\nwant\n%q", closed.body, want)
	}

	// a refused login has no session, so no mail; an unlisted service none
	s.pamtester(t, nil, "sshd", "bob", "authenticate", "acct_mgmt", "open_session")
	if _, code := s.pamtester(t, nil, "sddm", "alice", "authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
		t.Fatal("sddm refused")
	}

	// the relay is down: the login is as quick as ever; the mails wait and
	// go with the next login's, once the relay is back
	relay.stop()
	start := time.Now()
	if _, code := s.pamtester(t, []string{"rhost=10.3.3.3"}, "sshd", "alice", "authenticate", "acct_mgmt", "open_session"); code != 0 {
		t.Fatal("a dead relay denied the login")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the login took %v with the relay down", d)
	}
	time.Sleep(time.Second) // the deliverer finds the relay down
	if n := len(relay.messages(t)); n != 2 {
		t.Fatalf("%d mails, want still the first 2 (bob's refusal and sddm mail nobody)", n)
	}
	relay.start(t)
	if _, code := s.pamtester(t, []string{"rhost=10.4.4.4"}, "login", "alice", "open_session"); code != 0 {
		t.Fatal("login refused")
	}
	got = relay.waitMessages(t, 4)
	bodies := got[2].body + got[3].body
	if !strings.Contains(bodies, "Source:  10.3.3.3") || !strings.Contains(bodies, "Source:  10.4.4.4") ||
		got[3].header.Get("To") != "tty@example.org" && got[2].header.Get("To") != "tty@example.org" {
		t.Errorf("after the relay came back: %+v", got[2:])
	}
}

// TestMailSTARTTLS: with MAIL_TLS:STARTTLS session mails and PINs reach a
// relay that requires STARTTLS, its certificate checked against MAIL_CA;
// an untrusted relay gets nothing, and without MAIL_TLS such a relay
// refuses the plain mail (kept, and said).
func TestMailSTARTTLS(t *testing.T) {
	s := newPAMStack(t, "")
	pki := t.TempDir()
	ca := writeTestPKI(t, pki)
	relay := startSMTP(t, "--tlscert", filepath.Join(pki, "server.pem"), "--tlskey", filepath.Join(pki, "server.key"))
	must(t, os.WriteFile(filepath.Join(s.dir, "mail-notification.conf"), []byte("SSHD admin@example.org\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(s.dir, "login-mail-mapping.conf"), []byte("pinned pinned@example.org\n"), 0o644))
	rules := func(tls string) {
		must(t, os.WriteFile(s.rules, []byte("MAILSERVER:"+relay.addr+"\n"+tls+"SSHD PIN USER pinned\nSSHD OPEN USER alice\n"), 0o644))
	}

	rules("MAIL_TLS:STARTTLS\nMAIL_CA:" + ca + "\n")
	if _, code := s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt", "open_session"); code != 0 {
		t.Fatal("refused")
	}
	if got := relay.waitMessages(t, 1); !strings.Contains(got[0].body, "Successfully logged in") {
		t.Errorf("mail %+v", got[0])
	}
	if _, code, mails := pinLogin(t, s, relay, "pinned", typeMailedPIN); code != 0 || len(mails) != 1 {
		t.Errorf("PIN over STARTTLS: exit %d, %d mails", code, len(mails))
	}

	// the relay's certificate is not from a CA this host trusts
	rules("MAIL_TLS:STARTTLS\n")
	mark := sink.Mark()
	s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt", "open_session")
	if !waitLine(mark, "mail "+relay.addr, "STARTTLS", "certificate", "kept for the next try") {
		t.Errorf("log %q", sink.Since(mark))
	}
	mark = sink.Mark()
	if _, code := s.pamtester(t, nil, "sshd", "pinned", "authenticate"); code == 0 ||
		len(grep(sink.Since(mark), "auth: CLOSE", "mailing the PIN", "certificate")) != 1 {
		t.Errorf("a PIN to an untrusted relay: exit %d, log %q", code, sink.Since(mark))
	}

	// plain SMTP to a relay that requires STARTTLS: refused by the relay
	os.RemoveAll(filepath.Join(s.dir, "spool", "outbox"))
	rules("")
	mark = sink.Mark()
	s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt", "open_session")
	if !waitLine(mark, "mail "+relay.addr, "kept for the next try") {
		t.Errorf("log %q", sink.Since(mark))
	}
	if n := len(relay.messages(t)); n != 2 {
		t.Errorf("%d mails arrived, want the first 2 only", n)
	}
}
