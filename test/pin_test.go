package test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

var mailedPIN = regexp.MustCompile(`PIN for this session: ([A-Z0-9]{8})\n`)

// pinLogin runs an sshd password login through real libpam whose user
// types answer(pin) at each prompt, pin being what the newest mail holds
// (its body, for PINGPG), once it arrived. It returns pamtester's output
// and exit status, and the mails that arrived meanwhile.
func pinLogin(t *testing.T, s *pamStack, relay *smtpSink, user string, answer func(body string) []string) (string, int, []message) {
	t.Helper()
	before := len(relay.messages(t))
	pr, pw := io.Pipe()
	got := make(chan []message, 1)
	go func() {
		defer pw.Close()
		for i := 0; i < 100; i++ {
			if m := relay.messages(t); len(m) > before {
				got <- m[before:]
				for _, line := range answer(m[len(m)-1].body) {
					if _, err := io.WriteString(pw, line+"\n"); err != nil {
						return
					}
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		got <- nil
	}()
	out, code := s.pamtesterTyping(t, pr, []string{"rhost=10.9.9.9"}, "sshd", user, "authenticate", "acct_mgmt")
	pr.Close()
	return out, code, <-got
}

func typeIt(lines ...string) func(string) []string { return func(string) []string { return lines } }

func typeMailedPIN(body string) []string {
	m := mailedPIN.FindStringSubmatch(body)
	if m == nil {
		return []string{"NO-PIN-IN-THE-MAIL"}
	}
	return []string{m[1]}
}

// TestPIN: a PIN rule mails an 8-character one-time PIN to the address
// in login-mail-mapping.conf through a real SMTP server and lets the login
// in when it is typed at the prompt; wrong PINs, a used PIN, a missing
// address and a dead relay are refused.
func TestPIN(t *testing.T) {
	s := newPAMStack(t, "")
	relay := startSMTP(t)
	must(t, os.WriteFile(filepath.Join(s.dir, "login-mail-mapping.conf"),
		[]byte("ALICE alice@example.org,alice@phone.example.org\nbusy busy@example.org\n"), 0o644))
	rules := "MAILSERVER:" + relay.addr + "\nSSHD PIN USER alice,nomail,busy\nSSHD OPEN GROUP ALL\n"
	must(t, os.WriteFile(s.rules, []byte(rules), 0o644))

	mark := sink.Mark()
	out, code, mails := pinLogin(t, s, relay, "alice", typeMailedPIN)
	if code != 0 {
		t.Fatalf("the mailed PIN was refused:\n%s\n%q", out, sink.Since(mark))
	}
	if len(mails) != 1 || mails[0].header.Get("X-RcptTo") != "alice@example.org, alice@phone.example.org" ||
		mails[0].header.Get("Subject") != "[PAM-ACCESSCONTROL] 127.0.0.1 : sshd (one time PIN)" ||
		!strings.HasPrefix(mails[0].body, "*** Security notification ***\n\nPIN for this session: ") {
		t.Fatalf("mails %+v", mails)
	}
	if !strings.Contains(out, "A one-time PIN has been mailed to you.") || !strings.Contains(out, "PIN: ") {
		t.Errorf("the user was not told or asked:\n%s", out)
	}
	lines := sink.Since(mark)
	if len(grep(lines, "auth: OPEN", "the mailed PIN was typed (try 1 of 3)")) != 1 {
		t.Errorf("log %q", lines)
	}
	pin := mailedPIN.FindStringSubmatch(mails[0].body)[1]
	for _, l := range lines {
		if strings.Contains(l, pin) {
			t.Errorf("the PIN is in the log: %q", l)
		}
	}
	// nor on disk: not in the run directory, the outbox, the monthly log
	// or anything else of the stack's
	filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.Contains(readFile(t, path), pin) {
			t.Errorf("the PIN is written in %s", path)
		}
		return nil
	})

	// one use: the same PIN does not open the next login, which gets a new one
	mark = sink.Mark()
	_, code, mails = pinLogin(t, s, relay, "alice", typeIt(pin, pin, pin))
	if code == 0 || len(mails) != 1 || strings.Contains(mails[0].body, pin) {
		t.Fatalf("an old PIN: exit %d, mails %+v", code, mails)
	}
	if lines := sink.Since(mark); len(grep(lines, "auth: CLOSE", "a wrong PIN 3 times")) != 1 || len(grep(lines, "wrong PIN for")) != 3 {
		t.Errorf("log %q", lines)
	}

	// two wrong tries, then the right one in lower case
	out, code, _ = pinLogin(t, s, relay, "alice", func(body string) []string {
		return []string{"AAAAAAAA", "", strings.ToLower(typeMailedPIN(body)[0])}
	})
	if code != 0 || strings.Count(out, "Wrong PIN, try again.") != 2 {
		t.Errorf("third try: exit %d\n%s", code, out)
	}

	// at most 5 PINs for one user in 15 minutes: whoever knows the name
	// cannot fill the mailbox
	for i := 0; i < 5; i++ {
		if _, code, mails := pinLogin(t, s, relay, "busy", typeIt("", "", "")); code == 0 || len(mails) != 1 {
			t.Fatalf("busy's PIN login %d: exit %d, %d mails", i+1, code, len(mails))
		}
	}
	mark = sink.Mark()
	before := len(relay.messages(t))
	if _, code := s.pamtester(t, nil, "sshd", "busy", "authenticate"); code == 0 || len(relay.messages(t)) != before {
		t.Errorf("a sixth PIN: exit %d, %d new mails", code, len(relay.messages(t))-before)
	}
	if len(grep(sink.Since(mark), "auth: CLOSE", "no PIN mailed: 5 PINs were mailed to this user")) != 1 {
		t.Errorf("log %q", sink.Since(mark))
	}

	// no address for the user: refused at once, no mail
	mark = sink.Mark()
	before = len(relay.messages(t))
	if _, code := s.pamtester(t, nil, "sshd", "nomail", "authenticate"); code == 0 {
		t.Error("a PIN user without an address got in")
	}
	if len(relay.messages(t)) != before || len(grep(sink.Since(mark), "auth: CLOSE", "has no mail address for \"nomail\"")) != 1 {
		t.Errorf("log %q", sink.Since(mark))
	}

	// the relay is down: the PIN cannot be sent, the login is refused
	relay.stop()
	mark = sink.Mark()
	start := time.Now()
	if _, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code == 0 {
		t.Error("a PIN login got in without a PIN")
	}
	if time.Since(start) > 10*time.Second || len(grep(sink.Since(mark), "auth: CLOSE", "mailing the PIN")) != 1 {
		t.Errorf("after %v: log %q", time.Since(start), sink.Since(mark))
	}
	relay.start(t)

}

// TestPINGPG: the PIN is mailed encrypted to the user's OpenPGP key (the
// admin's gpg/<user>.asc, else the user's own keyring); real gpg decrypts
// it and the login goes in with it.
func TestPINGPG(t *testing.T) {
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		testenv.Missing(t, "gpg (gnupg)")
	}
	// kim keeps the key in their own keyring, in a home nss_wrapper shows
	users := t.TempDir()
	kimHome, err := os.MkdirTemp("", "pamac-kim")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(kimHome) })
	must(t, os.Chmod(kimHome, 0o755))
	must(t, os.WriteFile(filepath.Join(users, "passwd"), []byte("kim:x:4321:4321::"+kimHome+":/bin/sh\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(users, "group"), []byte("kim:x:4321:\n"), 0o644))
	s := newPAMStack(t, "", "helper="+wrappedHelper(t, users,
		testenv.NSSWrapperEnv(t, filepath.Join(users, "passwd"), filepath.Join(users, "group"))))
	relay := startSMTP(t)
	home := t.TempDir()
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gpg, append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %v: %v\n%s", args, err, stderr.String())
		}
		return string(out)
	}
	run("", "--quick-gen-key", "Gina <gina@example.org>", "default", "default", "never")
	must(t, os.Mkdir(filepath.Join(s.dir, "gpg"), 0o755))
	must(t, os.WriteFile(filepath.Join(s.dir, "gpg", "gina.asc"), []byte(run("", "--armor", "--export", "gina@example.org")), 0o644))
	kimGPG := filepath.Join(kimHome, ".gnupg")
	kim := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(gpg, append([]string{"--homedir", kimGPG, "--batch", "--pinentry-mode", "loopback",
			"--passphrase", ""}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("gpg %v: %v\n%s", args, err, out)
		}
	}
	must(t, os.Mkdir(kimGPG, 0o700))
	kim("--quick-gen-key", "Kim <kim@example.org>", "default", "default", "never")
	must(t, filepath.Walk(kimHome, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 4321, 4321)
	}))
	must(t, os.WriteFile(filepath.Join(s.dir, "login-mail-mapping.conf"),
		[]byte("gina gina@example.org\nnokey nokey@example.org\nkim kim@example.org\n"), 0o644))
	must(t, os.WriteFile(s.rules, []byte("MAILSERVER:"+relay.addr+"\nSSHD PINGPG USER gina,nokey,kim\n"), 0o644))

	var clear string
	out, code, mails := pinLogin(t, s, relay, "gina", func(body string) []string {
		i := strings.Index(body, "-----BEGIN PGP MESSAGE-----")
		if i < 0 || !strings.Contains(body, "PIN for this session:\n\n-----BEGIN") {
			return []string{"NOT-ENCRYPTED"}
		}
		clear = run(body[i:], "--decrypt")
		return []string{clear}
	})
	if code != 0 {
		t.Fatalf("the decrypted PIN was refused (%q):\n%s\n%+v", clear, out, mails)
	}
	if !regexp.MustCompile(`^[A-Z0-9]{8}$`).MatchString(clear) || strings.Contains(mails[0].body, clear) {
		t.Errorf("decrypted %q from\n%s", clear, mails[0].body)
	}

	// kim's key comes from kim's own keyring (gpg --export run as kim)
	out, code, _ = pinLogin(t, s, relay, "kim", func(body string) []string {
		i := strings.Index(body, "-----BEGIN PGP MESSAGE-----")
		if i < 0 {
			return []string{"NOT-ENCRYPTED"}
		}
		cmd := exec.Command(gpg, "--homedir", kimGPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--decrypt")
		cmd.Stdin = strings.NewReader(body[i:])
		pin, err := cmd.Output()
		if err != nil {
			return []string{"UNDECRYPTABLE"}
		}
		return []string{string(pin)}
	})
	if code != 0 {
		t.Errorf("kim, key from the own keyring: refused\n%s", out)
	}

	// no key for the user anywhere: refused, nothing mailed
	mark := sink.Mark()
	before := len(relay.messages(t))
	if _, code := s.pamtester(t, nil, "sshd", "nokey", "authenticate"); code == 0 {
		t.Error("a PINGPG user without a key got in")
	}
	if len(relay.messages(t)) != before || len(grep(sink.Since(mark), "auth: CLOSE", "PINGPG: no ", "nokey.asc")) != 1 {
		t.Errorf("log %q", sink.Since(mark))
	}
}

// TestSSHDPIN: a real sshd asks for the mailed PIN in a keyboard-
// interactive login (in its forked PAM child) and lets the real ssh
// client in with it; a public key login, where sshd cannot prompt, is
// refused.
func TestSSHDPIN(t *testing.T) {
	relay := startSMTP(t)
	s := startSSHD(t)
	must(t, os.WriteFile(filepath.Join(s.dir, "login-mail-mapping.conf"), []byte("root root@example.org\n"), 0o644))
	s.setRules(t, "MAILSERVER:"+relay.addr+"\nSSH PIN USER root\n")

	mark := sink.Mark()
	if in, out := s.login(t, "publickey"); in {
		t.Fatalf("a PIN login by key got in without a PIN:\n%s", out)
	}
	if len(grep(sink.Since(mark), "account: CLOSE", `"root"`, "PIN rule", "the PIN could not be asked for")) != 1 {
		t.Errorf("log %q", sink.Since(mark))
	}

	// sshd answers every prompt of a password login with the password
	if in, out := s.login(t, "password"); in {
		t.Fatalf("a PIN login by password got in:\n%s", out)
	}

	pinFile := filepath.Join(t.TempDir(), "pin")
	before := len(relay.messages(t))
	go func() {
		for i := 0; i < 300; i++ {
			if m := relay.messages(t); len(m) > before {
				pin := typeMailedPIN(m[len(m)-1].body)[0]
				os.WriteFile(pinFile+".new", []byte(pin), 0o600)
				os.Rename(pinFile+".new", pinFile)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	mark = sink.Mark()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "testdata/ssh_kbdint.py", fmt.Sprint(s.port),
		"assword:", "secret", "PIN:", "@"+pinFile)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SESSION-OK") || !strings.Contains(string(out), "A one-time PIN has been mailed to you.") {
		t.Fatalf("keyboard-interactive with the mailed PIN: %v\n%s\nsyslog %q", err, out, sink.Since(mark))
	}
	if len(grep(sink.Since(mark), "auth: OPEN", `"root"`, "the mailed PIN was typed")) != 1 {
		t.Errorf("log %q", sink.Since(mark))
	}
}

// TestPINNumber: NUMBER is checked before the PIN is mailed, and again
// after it is typed: a place taken while the user reads the mail refuses
// the login.
func TestPINNumber(t *testing.T) {
	relay := startSMTP(t)
	w := newNumberWorld(t, "", true)
	must(t, os.WriteFile(filepath.Join(w.dir, "login-mail-mapping.conf"), []byte("u01 u01@example.org\n"), 0o644))
	must(t, os.WriteFile(w.rules, []byte("MAILSERVER:"+relay.addr+"\nSSHD PIN GROUP g\nSSHD NUMBER GROUP g:1\n"), 0o644))

	// the place is free: the PIN opens
	if _, code, _ := pinLogin(t, w.pamStack, relay, "u01", typeMailedPIN); code != 0 {
		t.Fatal("u01 with the PIN and a free place: refused")
	}
	// u02 takes the place while u01 reads the mail: refused after the PIN
	mark := sink.Mark()
	_, code, _ := pinLogin(t, w.pamStack, relay, "u01", func(body string) []string {
		w.logind.Add(logindtest.Session{ID: "7", User: "u02", Class: "user", State: "active", Service: "sshd", Type: "tty"})
		return typeMailedPIN(body)
	})
	if code == 0 {
		t.Fatal("u01 got in past NUMBER g:1 that filled while the PIN was typed")
	}
	if len(grep(sink.Since(mark), "auth: CLOSE", "the mailed PIN was typed", "but meanwhile", "NUMBER")) != 1 {
		t.Errorf("log %q", sink.Since(mark))
	}
	// the place is taken: no PIN is mailed at all
	before := len(relay.messages(t))
	if _, code := w.pamtester(t, nil, "sshd", "u01", "authenticate"); code == 0 || len(relay.messages(t)) != before {
		t.Errorf("a full NUMBER: exit %d, %d mails", code, len(relay.messages(t))-before)
	}
}
