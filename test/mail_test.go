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
	cmd           *exec.Cmd
}

// message is one received mail.
type message struct {
	header mail.Header
	body   string
}

func startSMTP(t *testing.T) *smtpSink {
	t.Helper()
	if exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").Run() != nil {
		testenv.Missing(t, "python3-aiosmtpd")
	}
	m := &smtpSink{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), maildir: filepath.Join(t.TempDir(), "Maildir")}
	m.start(t)
	t.Cleanup(m.stop)
	return m
}

func (m *smtpSink) start(t *testing.T) {
	t.Helper()
	m.cmd = exec.Command("/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", m.addr,
		"-c", "aiosmtpd.handlers.Mailbox", m.maildir)
	m.cmd.Stderr = os.Stderr
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
