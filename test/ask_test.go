package test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
)

// prompter stands in for the desktop owner: it answers with answer, or
// first runs before, and remembers what it was asked and told.
type prompter struct {
	mu     sync.Mutex
	answer dbusapi.Decision // "" waits for the countdown
	before func()
	asked  []dbusapi.Request
	told   []dbusapi.Event
}

func (p *prompter) Ask(ctx context.Context, r dbusapi.Request) dbusapi.Decision {
	p.mu.Lock()
	p.asked = append(p.asked, r)
	answer, before := p.answer, p.before
	p.mu.Unlock()
	if before != nil {
		before()
	}
	if answer == "" {
		<-ctx.Done()
		return dbusapi.Timeout
	}
	return answer
}

func (p *prompter) Inform(e dbusapi.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.told = append(p.told, e)
}

func (p *prompter) set(answer dbusapi.Decision) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = answer
}

func (p *prompter) counts() (asked, told int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.asked), len(p.told)
}

// desktopWorld: the module with the fake logind, whose seat0 shows root's
// desktop (uid 0: this test's notifiers run as root), and no notifier yet.
func desktopWorld(t *testing.T, rules string, moduleOpts ...string) *numberWorld {
	t.Helper()
	w := newNumberWorld(t, rules, true, moduleOpts...)
	must(t, w.logind.Add(logindtest.Session{ID: "2", UID: 0, User: "root", Service: "gdm-password", Type: "wayland",
		Class: "user", State: "active", Seat: "seat0"}))
	w.logind.Activate("2")
	// the notifiers these tests serve run in this process: in the desktop session
	w.logind.SetPIDSession(uint32(os.Getpid()), "2")
	return w
}

// askWorld is desktopWorld with a notifier serving the prompter on the
// private system bus.
func askWorld(t *testing.T, rules string, moduleOpts ...string) (*numberWorld, *prompter) {
	t.Helper()
	w := desktopWorld(t, rules, moduleOpts...)
	p := &prompter{}
	conn, err := dbus.Connect(w.bus.Address)
	must(t, err)
	t.Cleanup(func() { conn.Close() })
	must(t, dbusapi.Serve(conn, 0, p))
	return w, p
}

func sshLogin(t *testing.T, w *numberWorld, user, rhost string, ops ...string) bool {
	t.Helper()
	_, code := w.pamtester(t, []string{"rhost=" + rhost}, "sshd", user, ops...)
	return code == 0
}

// TestAsk: the desktop owner's answer decides, through the real module,
// helper, system bus and notifier protocol.
func TestAsk(t *testing.T) {
	w, p := askWorld(t, "SSH ASK GROUP g\nASK_TIMEOUT:1\n")
	mark := sink.Mark()
	p.set(dbusapi.Allow)
	if !sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt") {
		t.Fatalf("allowed, yet refused:\n%s", strings.Join(sink.Since(mark), "\n"))
	}
	if len(grep(sink.Since(mark), `OPEN for "u01"`, `allowed by the desktop owner "root"`)) != 1 {
		t.Errorf("no decision line naming the owner:\n%s", strings.Join(sink.Since(mark), "\n"))
	}
	p.mu.Lock()
	r := p.asked[0]
	p.mu.Unlock()
	if r.User != "u01" || r.RHost != "10.0.0.5" || r.Service != "sshd" || r.Timeout != 1 {
		t.Errorf("asked %+v", r)
	}

	p.set(dbusapi.Deny)
	mark = sink.Mark()
	if sshLogin(t, w, "u02", "10.0.0.5", "acct_mgmt") {
		t.Fatal("denied, yet let in")
	}
	if len(grep(sink.Since(mark), `CLOSE for "u02"`, `denied by the desktop owner "root"`)) != 1 {
		t.Errorf("%s", strings.Join(sink.Since(mark), "\n"))
	}

	p.set("") // nobody answers
	mark = sink.Mark()
	if sshLogin(t, w, "u03", "10.0.0.5", "acct_mgmt") {
		t.Fatal("no answer, yet let in")
	}
	if len(grep(sink.Since(mark), `CLOSE for "u03"`, `did not answer in 1s`)) != 1 {
		t.Errorf("%s", strings.Join(sink.Since(mark), "\n"))
	}
}

// TestAskOnce: only the first live sshd session of a user from a host is
// asked about; when the last approved one closes, the owner is told. An
// approval counts while its own login lives: one that ended without a
// close_session (killed) lets nobody in, even while logind lists another
// session of that user from that host.
func TestAskOnce(t *testing.T) {
	w, p := askWorld(t, "SSH ASK GROUP g\nASK_TIMEOUT:2\n")
	p.set(dbusapi.Allow)
	first := heldLogin(t, w.pamStack, "u01", "10.0.0.5")
	if first == nil {
		t.Fatal("refused")
	}
	// logind now lists the session that login opened
	must(t, w.logind.Add(logindtest.Session{ID: "7", UID: 2001, User: "u01", Service: "sshd", RHost: "10.0.0.5",
		Type: "tty", Class: "user", State: "active"}))
	p.set(dbusapi.Deny) // asking again would now refuse
	if !sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt", "open_session", "close_session") {
		t.Fatal("a second login from the approved host was asked again")
	}
	if asked, told := p.counts(); asked != 1 || told != 0 {
		t.Fatalf("asked %d, told %d; want asked once, told nothing while the approved session lives", asked, told)
	}
	// the approved login ends without a word; logind still lists a
	// session of u01 from that host
	first.Process.Kill()
	first.Wait()
	if sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt") {
		t.Fatal("a leftover approval of a login that ended let the next one in without a question")
	}
	if asked, _ := p.counts(); asked != 2 {
		t.Fatalf("asked %d times, want 2: the login after the approved one ended is asked", asked)
	}
	if sshLogin(t, w, "u01", "10.0.0.6", "acct_mgmt") {
		t.Fatal("another host must be asked (and was denied)")
	}
	// a whole approved login: told when it ends
	p.set(dbusapi.Allow)
	if !sshLogin(t, w, "u05", "192.0.2.9", "acct_mgmt", "open_session", "close_session") {
		t.Fatal("refused")
	}
	asked, told := p.counts()
	if asked != 4 || told != 1 {
		t.Fatalf("asked %d, told %d; want 4 and 1", asked, told)
	}
	p.mu.Lock()
	e := p.told[0]
	p.mu.Unlock()
	if e != (dbusapi.Event{Kind: dbusapi.EventClosed, User: "u05", RHost: "192.0.2.9", Service: "sshd"}) {
		t.Errorf("told %+v", e)
	}
}

// TestAskNobody: with nobody to ask, ASK_FALLBACK decides, and a squatter
// on the notifier's name can never let anyone in.
func TestAskNobody(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(w *numberWorld)
		rules  string
		in     bool
		reason string
	}{
		{"no session at the seat", func(w *numberWorld) { w.logind.Activate("") }, "", false, "nobody is at the local desktop: seat0 has no active session, so ASK_FALLBACK:CLOSE"},
		{"no session at the seat, ASK_FALLBACK:OPEN", func(w *numberWorld) { w.logind.Activate("") }, "ASK_FALLBACK:OPEN\n", true, "ASK_FALLBACK:OPEN"},
		{"the greeter", func(w *numberWorld) {
			w.logind.Add(logindtest.Session{ID: "c1", UID: 108, User: "gdm", Type: "wayland", Class: "greeter", State: "active", Seat: "seat0"})
			w.logind.Activate("c1")
		}, "", false, "nobody is at the local desktop"},
		{"no notifier for the owner", func(w *numberWorld) {
			w.logind.Add(logindtest.Session{ID: "3", UID: 1001, User: "alice", Type: "x11", Class: "user", State: "active", Seat: "seat0"})
			w.logind.Activate("3")
		}, "", false, "no notifier runs"},
		{"a squatter holds the owner's name", func(w *numberWorld) {
			w.logind.Add(logindtest.Session{ID: "3", UID: 1001, User: "alice", Type: "x11", Class: "user", State: "active", Seat: "seat0"})
			w.logind.Activate("3")
			conn, _ := dbus.Connect(w.bus.Address) // root, squatting uid 1001's name with a yes-man
			dbusapi.Serve(conn, 1001, &prompter{answer: dbusapi.Allow})
		}, "ASK_FALLBACK:OPEN\n", false, "held by another user"},
		{"logind does not answer", func(w *numberWorld) { w.logind.SetDelay(20e9) }, "", false, "cannot be found"},
		// the owner's notifier would allow: a locked screen is nobody
		// there, and must not be asked (its window would be unseen)
		{"the owner's screen is locked", lockDesktop, "", false, "nobody is at the local desktop: seat0's session 2 (root) is locked, so ASK_FALLBACK:CLOSE"},
		{"the owner's screen is locked, ASK_FALLBACK:OPEN", lockDesktop, "ASK_FALLBACK:OPEN\n", true, "is locked, so ASK_FALLBACK:OPEN"},
		// the owner's notifier, which would allow, runs in another session
		// of theirs (xrdp): nobody at the seat would see the question
		{"the owner's notifier in another session", func(w *numberWorld) {
			w.logind.Add(logindtest.Session{ID: "9", UID: 0, User: "root", Service: "xrdp-sesman", Type: "x11", Class: "user", State: "online"})
			w.logind.SetPIDSession(uint32(os.Getpid()), "9")
		}, "", false, "runs in another session than the desktop's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, p := askWorld(t, tt.rules+"SSH ASK GROUP g\n", "timeout=5")
			p.set(dbusapi.Allow)
			tt.setup(w)
			mark := sink.Mark()
			in := sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt")
			lines := grep(sink.Since(mark), "pam-accesscontrol[", `for "u01"`)
			if in != tt.in || len(lines) != 1 || !strings.Contains(lines[0], tt.reason) {
				t.Fatalf("in %v, want %v; lines %q, want one with %q", in, tt.in, lines, tt.reason)
			}
			if strings.Contains(tt.name, "squatter") || strings.Contains(tt.name, "locked") || strings.Contains(tt.name, "another session") {
				if asked, _ := p.counts(); asked != 0 {
					t.Error("the real notifier was asked instead")
				}
			}
		})
	}
}

// lockDesktop locks the screen of desktopWorld's owner (LockedHint).
func lockDesktop(w *numberWorld) {
	w.logind.Add(logindtest.Session{ID: "2", UID: 0, User: "root", Service: "gdm-password", Type: "wayland",
		Class: "user", State: "active", Seat: "seat0", Locked: true})
}

// TestAskNumberRecheck: the owner allows, but the limit filled while they
// were deciding: CLOSE.
func TestAskNumberRecheck(t *testing.T) {
	w, p := askWorld(t, "SSH ASK GROUP g\nSSH NUMBER GROUP g:1\n")
	p.set(dbusapi.Allow)
	p.before = func() {
		w.logind.Add(logindtest.Session{ID: "9", UID: 2002, User: "u02", Service: "sshd", RHost: "10.1.1.1", Type: "tty", Class: "user", State: "active"})
	}
	mark := sink.Mark()
	if sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt") {
		t.Fatal("let in past a full limit")
	}
	if len(grep(sink.Since(mark), `CLOSE for "u01"`, `allowed by the desktop owner "root"; but meanwhile NUMBER limit reached`)) != 1 {
		t.Errorf("%s", strings.Join(sink.Since(mark), "\n"))
	}
}

// standIn holds root's notifier name with a bare Ask method, not
// dbusapi.Serve (which only ever answers allow, deny or timeout), to
// misbehave as a broken notifier would. It counts the questions it got.
type standIn struct {
	conn  *dbus.Conn
	mu    sync.Mutex
	asked int
}

func newStandIn(t *testing.T, w *numberWorld, ask func(s *standIn) (string, *dbus.Error)) *standIn {
	t.Helper()
	conn, err := dbus.Connect(w.bus.Address)
	must(t, err)
	t.Cleanup(func() { conn.Close() })
	s := &standIn{conn: conn}
	must(t, conn.ExportMethodTable(map[string]any{
		"Ask": func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
			s.mu.Lock()
			s.asked++
			s.mu.Unlock()
			return ask(s)
		},
	}, dbusapi.Path, dbusapi.Interface))
	reply, err := conn.RequestName(dbusapi.BusName(0), dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("claiming %s: %v %v", dbusapi.BusName(0), reply, err)
	}
	return s
}

func (s *standIn) questions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked
}

// loginCtx is one sshd key login (acct_mgmt) by pamtester, bound by ctx:
// pamtester's exit status and output.
func loginCtx(ctx context.Context, t *testing.T, w *numberWorld, user, rhost string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath("pamtester"); err != nil {
		testenv.Missing(t, "pamtester")
	}
	wrap := append(sink.Wrap(), "pamtester", "-I", "rhost="+rhost, "-v", "sshd", user, "acct_mgmt")
	cmd := exec.CommandContext(ctx, wrap[0], wrap[1:]...)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+libPAMWrapper(t),
		"PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+w.svc, "PAM_WRAPPER_USE_SYSLOG=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the login did not end in time (%v):\n%s", ctx.Err(), out)
	}
	return exitStatus(t, err), string(out)
}

// TestAskUnanswered (issue 12): once the question went out to the verified
// desktop owner's notifier, no answer (the notifier dies, never answers
// before the helper's deadline, answers garbage) is CLOSE, even with
// ASK_FALLBACK:OPEN: the fallback is for nobody to ask, and someone may be
// looking at the question. With no notifier at all, the fallback decides.
func TestAskUnanswered(t *testing.T) {
	// the helper waits min(ASK_TIMEOUT+2s, timeout-1s) for the answer,
	// inside the module's own deadline
	const rules = "ASK_FALLBACK:OPEN\nASK_TIMEOUT:1\nSSH ASK GROUP g\n"
	const denied = "Access denied by pam-accesscontrol."
	// a stand-in that would allow, were it able to answer, waits for release
	tests := []struct {
		name string
		ask  func(s *standIn, release <-chan struct{}) (string, *dbus.Error)
	}{
		{"the notifier dies while the question is pending", func(s *standIn, release <-chan struct{}) (string, *dbus.Error) {
			go s.conn.Close() // to the bus, as if its process died
			<-release
			return string(dbusapi.Allow), nil
		}},
		{"the notifier never answers before the helper's deadline", func(s *standIn, release <-chan struct{}) (string, *dbus.Error) {
			<-release
			return string(dbusapi.Allow), nil
		}},
		{"the notifier answers garbage", func(s *standIn, release <-chan struct{}) (string, *dbus.Error) {
			return "maybe", nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := desktopWorld(t, rules, "timeout=5")
			release := make(chan struct{})
			s := newStandIn(t, w, func(s *standIn) (string, *dbus.Error) { return tt.ask(s, release) })
			t.Cleanup(func() { close(release) }) // before the stand-in's connection closes
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			mark := sink.Mark()
			code, out := loginCtx(ctx, t, w, "u01", "10.0.0.5")
			all := sink.Since(mark)
			decisions := grep(all, "pam-accesscontrol[", `for "u01"`)
			t.Logf("decision: %q", decisions)
			if n := s.questions(); n != 1 {
				t.Fatalf("the notifier got %d questions, want 1 (the question must go out):\n%s", n, strings.Join(all, "\n"))
			}
			if code == 0 {
				t.Fatalf("let in (PAM success) after the question went out and no answer came: "+
					"ASK_FALLBACK:OPEN must not apply then; decision %q", decisions)
			}
			if code != 1 || !strings.Contains(out, "Permission denied") || !strings.Contains(out, denied) {
				t.Errorf("exit %d, want 1 with PAM_PERM_DENIED and %q:\n%s", code, denied, out)
			}
			if len(decisions) != 1 || !strings.Contains(decisions[0], `CLOSE for "u01"`) {
				t.Errorf("decision lines %q, want one CLOSE", decisions)
			}
			if len(grep(all, "pam-accesscontrol[", `"u01"`, dbusapi.ErrUnanswered.Error())) == 0 {
				t.Errorf("no line says %q:\n%s", dbusapi.ErrUnanswered.Error(), strings.Join(all, "\n"))
			}
		})
	}

	t.Run("no notifier at all: ASK_FALLBACK:OPEN decides", func(t *testing.T) {
		w := desktopWorld(t, rules, "timeout=5")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		mark := sink.Mark()
		code, out := loginCtx(ctx, t, w, "u01", "10.0.0.5")
		all := sink.Since(mark)
		decisions := grep(all, "pam-accesscontrol[", `for "u01"`)
		if code != 0 || !strings.Contains(out, "account management done") {
			t.Fatalf("exit %d, want 0 (let in by ASK_FALLBACK:OPEN):\n%s\n%s", code, out, strings.Join(all, "\n"))
		}
		if len(decisions) != 1 || !strings.Contains(decisions[0], `OPEN for "u01"`) ||
			!strings.Contains(decisions[0], "no notifier runs") || !strings.Contains(decisions[0], "ASK_FALLBACK:OPEN") {
			t.Errorf("decision lines %q, want one OPEN by ASK_FALLBACK:OPEN as no notifier runs", decisions)
		}
		if len(grep(all, dbusapi.ErrUnanswered.Error())) != 0 {
			t.Errorf("nobody was asked, yet a line says %q:\n%s", dbusapi.ErrUnanswered.Error(), strings.Join(all, "\n"))
		}
	})
}

// TestAskRemember (issue 17): with ASK_REMEMBER the desktop owner's "Allow
// for 8 h" lets the user in from that host without a question, through the
// real module, helper, system bus and notifier protocol; another host is
// asked; pam-accesscontrol ask-revoke takes the grant back, and the next
// login is asked again; each step is in the audit trail.
func TestAskRemember(t *testing.T) {
	base := "SSH ASK GROUP g\nASK_TIMEOUT:2\nASK_REMEMBER:8\n"
	w, p := askWorld(t, base)
	audit := filepath.Join(w.dir, "audit.jsonl")
	must(t, os.WriteFile(w.rules, []byte(base+"AUDIT_LOG:"+audit+"\n"), 0o644))
	runDir := filepath.Join(w.dir, "run")

	p.set(dbusapi.AllowRemember)
	if !sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt") {
		t.Fatal("allowed for 8 h, yet refused")
	}
	if asked, _ := p.counts(); asked != 1 || p.asked[0].Remember != 8 {
		t.Fatalf("asked %d times, offered %+v", asked, p.asked)
	}
	p.set(dbusapi.Deny)
	mark := sink.Mark()
	if !sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt") {
		t.Fatalf("granted for 8 h, yet refused:\n%s", strings.Join(sink.Since(mark), "\n"))
	}
	if asked, _ := p.counts(); asked != 1 {
		t.Errorf("asked again (%d) within the grant", asked)
	}
	if len(grep(sink.Since(mark), `OPEN for "u01"`, `allowed by the desktop owner "root" for this host until`, "(ASK_REMEMBER)")) != 1 {
		t.Errorf("no decision line naming the grant:\n%s", strings.Join(sink.Since(mark), "\n"))
	}
	if sshLogin(t, w, "u01", "10.0.0.6", "acct_mgmt") {
		t.Error("another host got in by the grant")
	}
	if sshLogin(t, w, "u02", "10.0.0.5", "acct_mgmt") {
		t.Error("another user got in by the grant")
	}

	out, err := exec.Command(cli, "ask-grants", "--rundir", runDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"u01" from "10.0.0.5": allowed by "root" (uid 0) until`) {
		t.Errorf("ask-grants: %v\n%s", err, out)
	}
	if out, err := exec.Command(cli, "ask-revoke", "--rundir", runDir, "--conf", w.rules, "--user", "u01").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "revoked:") {
		t.Fatalf("ask-revoke: %v\n%s", err, out)
	}
	asked, _ := p.counts()
	if sshLogin(t, w, "u01", "10.0.0.5", "acct_mgmt") {
		t.Error("got in after the grant was revoked")
	}
	if now, _ := p.counts(); now != asked+1 {
		t.Errorf("not asked after the revocation (%d questions, were %d)", now, asked)
	}
	events := string(mustRead(t, audit))
	for _, kind := range []string{"ask_grant", "ask_granted", "ask_revoke"} {
		if !strings.Contains(events, `"event":"`+kind+`"`) {
			t.Errorf("no %s event in the audit trail:\n%s", kind, events)
		}
	}
}

// heldLogin is a login of user from rhost that stays (phasedriver's held:
// account and open_session in a process that lives until killed); nil
// when it was refused.
func heldLogin(t *testing.T, s *pamStack, user, rhost string) *exec.Cmd {
	t.Helper()
	driver := buildOnce(t, "phasedriver", "cc", "-Wall", "-Werror", "-o", "OUT", "phasedriver/phasedriver.c", "-lpam")
	all := append(sink.Wrap(), driver, s.svc, "sshd", user, "held", rhost)
	cmd := exec.Command(all[0], all[1:]...)
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("held login: %v", err)
	}
	if strings.TrimSpace(line) != "held 0" {
		return nil
	}
	return cmd
}
