package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Issue 12: a host that forks one child per connection without re-exec
// (vsftpd, xrdp-sesman, inetd-style daemons, sshd -r) gives every child
// the same parent pid and the same PAM handle address. A login's decision
// may be reused by the same process and across one direct fork (sshd's
// keyboard-interactive child and its parent, xrdp's auth then session:
// TestForkPatterns), never by a sibling: each sibling is a login of its
// own, asked for its own second factor, PIN, ASK or NUMBER place.

// The otp plugin: a second factor that asks for a code and opens when it
// is right. Its code is what forkdriver types by default ("secret"), so
// the fork patterns of TestForkPatterns get in with it.
const (
	otpCode   = "secret"
	otpPrompt = "conv 1 One-time code:" // as runForkDriver shows the prompt
	otpPlugin = `# otp: a second factor, asked through the PAM conversation.
def decide(ctx):
    code = ctx.prompt("One-time code: ")
    if code == "` + otpCode + `":
        return "OPEN"
    return "CLOSE"
`
)

// writeOTPPlugin puts the otp plugin beside the stack's rules file.
func writeOTPPlugin(t *testing.T, s *pamStack) {
	t.Helper()
	dir := filepath.Join(s.dir, "plugins")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "otp.star"), []byte(otpPlugin), 0o644))
}

var (
	siblingStart = regexp.MustCompile(`(?m)^sibling(\d+)-start pid=(\d+) ppid=(\d+) handle=(\S+)$`)
	siblingLine  = regexp.MustCompile(`^sibling(\d+)-`)
)

// checkSiblings fails the test unless out shows n children of one parent,
// each with its own pid and all with the same handle address: the host
// this test plays, without which a pass would prove nothing.
func checkSiblings(t *testing.T, out string, n int) {
	t.Helper()
	starts := siblingStart.FindAllStringSubmatch(out, -1)
	if len(starts) != n {
		t.Fatalf("%d siblings started, want %d:\n%s", len(starts), n, out)
	}
	pids := map[string]bool{}
	for _, m := range starts {
		if pids[m[2]] || m[3] != starts[0][3] || m[4] != starts[0][4] {
			t.Fatalf("the children are not siblings with one handle:\n%s", out)
		}
		pids[m[2]] = true
	}
}

// TestSiblingsPlugin: children forked one after the other from one
// parent, on one handle, each answering the otp plugin's prompt: only the
// one that types the right code gets in; every other is asked and refused,
// whatever its brother before it typed.
func TestSiblingsPlugin(t *testing.T) {
	s := newPAMStack(t, "DEBUG:TRUE\nDEFAULT:CLOSE\nSSHD otp USER alice\n")
	writeOTPPlugin(t, s)
	in := func(n string) []string {
		return []string{"sibling" + n + "-start", otpPrompt, "sibling" + n + "-authenticate 0", "sibling" + n + "-account 0"}
	}
	refused := func(n string) []string {
		return []string{"sibling" + n + "-start", otpPrompt, "conv 3 Access denied by pam-accesscontrol.", "sibling" + n + "-authenticate 7"}
	}
	join := func(parts ...[]string) []string {
		var all []string
		for _, p := range parts {
			all = append(all, p...)
		}
		return append(all, "done")
	}
	tests := []struct {
		name         string
		answers      []string
		want         []string
		opened, shut int // decisions logged
		reused       int // "reusing the decision" log lines
	}{
		// the first types the code; its brothers do not know it
		{"right-wrong-wrong", []string{otpCode, "wrong", "wrong"}, join(in("1"), refused("2"), refused("3")), 1, 2, 1},
		// a refused brother does not lock out the next one
		{"wrong-right", []string{"wrong", otpCode}, join(refused("1"), in("2")), 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark := sink.Mark()
			out, got := runForkDriver(t, s, nil, "alice", append([]string{"siblings"}, tt.answers...)...)
			checkSiblings(t, out, len(tt.answers))
			lines := sink.Since(mark)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("steps:\n%s\nwant:\n%s\n\nforkdriver said:\n%s\nsyslog:\n%s", strings.Join(got, "\n"),
					strings.Join(tt.want, "\n"), out, strings.Join(lines, "\n"))
			}
			// one decision per sibling, the plugin's own (its account reuses it)
			if o, c := len(grep(lines, `auth: OPEN for "alice"`, "plugin otp answered OPEN")),
				len(grep(lines, `auth: CLOSE for "alice"`, "plugin otp answered CLOSE")); o != tt.opened || c != tt.shut {
				t.Errorf("%d OPEN and %d CLOSE decisions by the plugin logged, want %d and %d:\n%s",
					o, c, tt.opened, tt.shut, strings.Join(lines, "\n"))
			}
			if n := len(grep(lines, "reusing the decision")); n != tt.reused {
				t.Errorf("%d reuses logged, want %d (the account of the sibling that got in):\n%s", n, tt.reused, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestSiblingsPIN: the same with a PIN rule: the first sibling types the
// PIN mailed to it; each of its brothers gets a PIN mail of its own and,
// typing a wrong PIN, is refused.
func TestSiblingsPIN(t *testing.T) {
	// a stack of its own: its run directory holds the PIN counts, and 3
	// PINs stay below the 5 a user may get in 15 minutes
	s := newPAMStack(t, "")
	relay := startSMTP(t)
	must(t, os.WriteFile(filepath.Join(s.dir, "login-mail-mapping.conf"), []byte("alice alice@example.org\n"), 0o644))
	must(t, os.WriteFile(s.rules, []byte("DEBUG:TRUE\nMAILSERVER:"+relay.addr+"\nDEFAULT:CLOSE\nSSHD PIN USER alice\n"), 0o644))

	// the first sibling reads its answer from stdin ("-"): the PIN of the
	// first mail, typed once it arrived
	r, w, err := os.Pipe()
	must(t, err)
	defer r.Close()
	typed := make(chan string, 1)
	go func() {
		defer w.Close()
		for i := 0; i < 200; i++ {
			if m := relay.messages(t); len(m) > 0 {
				pin := typeMailedPIN(m[0].body)[0]
				typed <- pin
				w.WriteString(pin + "\n")
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		typed <- "" // no mail: the sibling reads an empty line
	}()
	mark := sink.Mark()
	out, got := runForkDriver(t, s, r, "alice", "siblings", "-", "WRONGPIN", "WRONGPIN")
	checkSiblings(t, out, 3)
	lines := sink.Since(mark)
	defer func() {
		if t.Failed() {
			t.Logf("forkdriver said:\n%s\nsyslog:\n%s", out, strings.Join(lines, "\n"))
		}
	}()

	// what each sibling was told and asked, and its results
	sections := map[string][]string{}
	n := ""
	for _, l := range got {
		if l == "done" {
			break
		}
		if m := siblingLine.FindStringSubmatch(l); m != nil {
			n = m[1]
		}
		sections[n] = append(sections[n], l)
	}
	for _, sib := range []string{"1", "2", "3"} {
		sec := sections[sib]
		want := "sibling" + sib + "-authenticate 7"
		if sib == "1" {
			want = "sibling1-authenticate 0\nsibling1-account 0"
		}
		var steps []string
		mailed, asked := 0, 0
		for _, l := range sec {
			switch {
			case l == "conv 4 A one-time PIN has been mailed to you.":
				mailed++
			case l == "conv 1 PIN:":
				asked++
			case !strings.HasPrefix(l, "conv ") && !strings.HasSuffix(l, "-start"):
				steps = append(steps, l)
			}
		}
		if mailed != 1 || asked == 0 || (sib == "1" && asked != 1) {
			t.Errorf("sibling %s: told of %d PIN mails and asked for the PIN %d times, want one mail and to be asked", sib, mailed, asked)
		}
		if strings.Join(steps, "\n") != want {
			t.Errorf("sibling %s: steps\n%s\nwant\n%s", sib, strings.Join(steps, "\n"), want)
		}
	}

	// three mails (sent before each prompt, so all here by now), three
	// different PINs, the first one typed
	pin := <-typed
	mails := relay.messages(t)
	seen := map[string]bool{}
	for _, m := range mails {
		seen[typeMailedPIN(m.body)[0]] = true
	}
	if len(mails) != 3 || len(seen) != 3 || pin == "" || pin != typeMailedPIN(mails[0].body)[0] {
		t.Errorf("%d mails with %d different PINs (%v), the first sibling typed %q; want 3 different", len(mails), len(seen), seen, pin)
	}
	if len(grep(lines, `auth: OPEN for "alice"`, "the mailed PIN was typed")) != 1 ||
		len(grep(lines, `auth: CLOSE for "alice"`, "a wrong PIN 3 times")) != 2 {
		t.Errorf("want one OPEN by the mailed PIN and two CLOSE by wrong PINs logged")
	}
	for _, l := range lines {
		for p := range seen {
			if strings.Contains(l, p) {
				t.Errorf("a PIN is in the log: %q", l)
			}
		}
	}
}
