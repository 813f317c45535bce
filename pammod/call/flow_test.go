package call

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

const (
	auth    = protocol.FnAuthenticate
	account = protocol.FnAcctMgmt
	open    = protocol.FnOpenSession
	closeS  = protocol.FnCloseSession
)

// secondFactor is a rule plugin that asks for a code: the attacker's
// target, since a decision reused by the wrong process skips it.
const secondFactor = `
def decide(ctx):
    if ctx.prompt("Code: ") == "1234":
        return "OPEN"
    return "CLOSE"
`

func TestDecideOpenCloseAndCodes(t *testing.T) {
	h := newHost(t, "DEFAULT:CLOSE\nSSHD OPEN USER alice\nSSHD CLOSE USER bob\n")
	h.proc(100, 10, 0)
	tests := []struct {
		name  string
		fn    protocol.Fn
		user  string
		flags int32
		want  int32
		shown bool
	}{
		{"OPEN in auth", auth, "alice", 0, protocol.PAMSuccess, false},
		{"CLOSE in auth", auth, "bob", 0, protocol.PAMAuthErr, true},
		{"CLOSE in account", account, "bob", 0, protocol.PAMPermDenied, true},
		{"CLOSE in session", protocol.FnOpenSession, "bob", 0, protocol.PAMPermDenied, true},
		{"CLOSE, silent", auth, "bob", protocol.FlagSilent, protocol.PAMAuthErr, false},
		{"DEFAULT", auth, "carol", 0, protocol.PAMAuthErr, true},
		{"chauthtok is not ours", protocol.FnChauthtok, "bob", 0, protocol.PAMIgnore, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pam := &fakePAM{user: tt.user}
			if got := h.call(tt.fn, 100, pam, "192.0.2.1", tt.flags); got != tt.want {
				t.Fatalf("code %d, want %d; log:\n%s", got, tt.want, strings.Join(h.log.lines, "\n"))
			}
			shown := len(pam.said) == 1 && pam.said[0] == "3 "+deniedMessage
			if shown != tt.shown {
				t.Errorf("messages %q", pam.said)
			}
		})
	}
}

func TestRefusedBeforeDeciding(t *testing.T) {
	h := newHost(t, "DEFAULT:OPEN\n")
	h.proc(100, 10, 0)
	if r := h.callAs(auth, 100, 101, &fakePAM{user: "alice"}, "", 0); r.Code != protocol.PAMAuthErr {
		t.Errorf("a call whose pid is not the kernel's: %d", r.Code)
	}
	if len(h.log.grep("the kernel says 101")) != 1 {
		t.Errorf("log: %q", h.log.lines)
	}
	if got := h.call(auth, 555, &fakePAM{user: "alice"}, "", 0); got != protocol.PAMAuthErr {
		t.Errorf("a process that cannot be identified: %d", got)
	}
	if got := h.call(account, 100, &fakePAM{user: ""}, "", 0); got != protocol.PAMPermDenied {
		t.Errorf("no user: %d", got)
	}
	// a run directory others may write: anyone could plant a decision
	h2 := newHost(t, "DEFAULT:OPEN\n")
	h2.proc(100, 10, 0)
	if err := osMkdirMode(h2.dir+"/run", 0o777); err != nil {
		t.Fatal(err)
	}
	if got := h2.call(auth, 100, &fakePAM{user: "alice"}, "", 0); got != protocol.PAMAuthErr {
		t.Errorf("a world-writable run directory: %d", got)
	}
	if len(h2.log.grep("writable by group or others")) != 1 {
		t.Errorf("log: %q", h2.log.lines)
	}
}

// TestSiblingsDecideForThemselves: a fork server's children share the
// parent and the handle address; each is asked for the code, and only the
// one that typed it gets in.
func TestSiblingsDecideForThemselves(t *testing.T) {
	h := newHost(t, "DEFAULT:CLOSE\nSSHD CODE USER alice\n")
	h.write("plugins/code.star", secondFactor)
	h.proc(10, 1, 0) // the server, which called pam_start
	server := &fakePAM{user: "alice"}
	for i, tt := range []struct {
		answer string
		want   int32
	}{{"1234", protocol.PAMSuccess}, {"wrong", protocol.PAMAuthErr}, {"wrong", protocol.PAMAuthErr}, {"1234", protocol.PAMSuccess}} {
		pid := int32(20 + i)
		h.proc(pid, uint64(100+i), 10)
		child := server.fork()
		child.answers = []string{tt.answer}
		got := h.call(auth, pid, child, "192.0.2.1", 0)
		if got != tt.want || len(child.said) == 0 || child.said[0] != "1 Code: " {
			t.Fatalf("sibling %d: code %d, said %q", i+1, got, child.said)
		}
		if tt.want == protocol.PAMSuccess {
			if got := h.call(account, pid, child, "192.0.2.1", 0); got != protocol.PAMSuccess {
				t.Fatalf("sibling %d's account: %d", i+1, got)
			}
		} else if got := h.call(account, pid, child, "192.0.2.1", 0); got != protocol.PAMPermDenied {
			t.Fatalf("sibling %d's account: %d", i+1, got)
		}
	}
}

// TestSSHDForkReusesTheDecision: sshd's keyboard-interactive child runs
// auth and account, its monitor the session: one question, one decision.
func TestSSHDForkReusesTheDecision(t *testing.T) {
	h := newHost(t, "DEBUG:TRUE\nDEFAULT:CLOSE\nSSHD CODE USER alice\n")
	h.write("plugins/code.star", secondFactor)
	h.proc(10, 1, 0) // the monitor
	h.proc(11, 2, 10)
	monitor := &fakePAM{user: "alice"}
	child := monitor.fork()
	child.answers = []string{"1234"}
	for _, step := range []struct {
		fn  protocol.Fn
		pid int32
		pam *fakePAM
	}{{auth, 11, child}, {account, 11, child}, {open, 10, monitor}, {closeS, 10, monitor}} {
		if got := h.call(step.fn, step.pid, step.pam, "192.0.2.1", 0); got != protocol.PAMSuccess {
			t.Fatalf("%s in %d: %d\n%s", step.fn, step.pid, got, strings.Join(h.log.lines, "\n"))
		}
	}
	if n := len(child.said) + len(monitor.said); n != 1 {
		t.Errorf("asked %d times: %q %q", n, child.said, monitor.said)
	}
	if n := len(h.log.grep("its authentication succeeded")); n != 1 {
		t.Errorf("%d confirmations, want 1 (account)", n)
	}
	if n := len(h.log.grep("reusing the decision")); n != 2 {
		t.Errorf("%d reuses, want 2 (account, session)", n)
	}
	if child.loginID == "" || child.loginID != monitor.loginID {
		t.Errorf("one login, ids %q and %q", child.loginID, monitor.loginID)
	}
	// the session closed: the monitor's handle decides anew
	monitor.answers = []string{"wrong"}
	if got := h.call(account, 10, monitor, "192.0.2.1", 0); got != protocol.PAMPermDenied {
		t.Errorf("after close_session: %d", got)
	}
}

func TestStaleRecordsAreNotReused(t *testing.T) {
	tests := []struct {
		name   string
		change func(h *host, pam *fakePAM)
	}{
		{"config changed", func(h *host, _ *fakePAM) { h.write("rules.conf", "DEFAULT:CLOSE\nSSHD CODE USER alice,bob\n") }},
		{"plugin changed", func(h *host, _ *fakePAM) { h.write("plugins/code.star", secondFactor+"\n# v2\n") }},
		{"drop-in added", func(h *host, _ *fakePAM) { h.write("rules.d/10-x.conf", "# nothing\n") }},
		{"TTL passed", func(h *host, _ *fakePAM) { h.now = h.now.Add(11 * time.Minute) }},
		{"pid reused", func(h *host, _ *fakePAM) { h.proc(11, 99, 10) }},
		{"a new handle at the same address", func(_ *host, pam *fakePAM) { pam.loginID = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "DEFAULT:CLOSE\nSSHD CODE USER alice\n")
			h.write("plugins/code.star", secondFactor)
			h.proc(10, 1, 0)
			h.proc(11, 2, 10)
			pam := &fakePAM{user: "alice", answers: []string{"1234"}}
			if got := h.call(auth, 11, pam, "", 0); got != protocol.PAMSuccess {
				t.Fatalf("auth: %d", got)
			}
			tt.change(h, pam)
			pam.answers = []string{"wrong"}
			if got := h.call(account, 11, pam, "", 0); got != protocol.PAMPermDenied {
				t.Fatalf("account after %s: %d (a stale decision was reused)", tt.name, got)
			}
		})
	}
}

func TestAsk(t *testing.T) {
	owner := &logind.Desktop{User: "dora", UID: 1000, Type: "x11"}
	tests := []struct {
		name     string
		fallback string
		owner    *logind.Desktop
		ownerErr error
		answer   dbusapi.Decision
		askErr   error
		want     int32
		asked    int
		reason   string
	}{
		{"allowed", "CLOSE", owner, nil, dbusapi.Allow, nil, protocol.PAMSuccess, 1, "allowed by the desktop owner"},
		{"denied", "OPEN", owner, nil, dbusapi.Deny, nil, protocol.PAMAuthErr, 1, "denied by"},
		{"countdown ran out", "OPEN", owner, nil, dbusapi.Timeout, nil, protocol.PAMAuthErr, 1, "did not answer"},
		{"nobody at the desktop, fallback OPEN", "OPEN", nil, nil, "", nil, protocol.PAMSuccess, 0, "nobody is at the local desktop, so ASK_FALLBACK:OPEN"},
		{"nobody at the desktop, fallback CLOSE", "CLOSE", nil, nil, "", nil, protocol.PAMAuthErr, 0, "ASK_FALLBACK:CLOSE"},
		{"logind fails, fallback", "OPEN", nil, errors.New("no bus"), "", nil, protocol.PAMSuccess, 0, "cannot be found"},
		{"no notifier, fallback", "OPEN", owner, nil, "", dbusapi.ErrNoNotifier, protocol.PAMSuccess, 1, "ASK_FALLBACK:OPEN"},
		{"question out, no answer: CLOSE whatever the fallback", "OPEN", owner, nil, "",
			errors.Join(dbusapi.ErrUnanswered, context.DeadlineExceeded), protocol.PAMAuthErr, 1, "no answer came"},
		{"someone else holds the name: CLOSE whatever the fallback", "OPEN", owner, nil, "", dbusapi.ErrWrongOwner,
			protocol.PAMAuthErr, 1, "cannot be asked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "DEFAULT:CLOSE\nASK_FALLBACK:"+tt.fallback+"\nSSHD ASK GROUP lp\n")
			trail := filepath.Join(h.dir, "audit.jsonl")
			h.write("rules.conf", "DEFAULT:CLOSE\nAUDIT_LOG:"+trail+"\nASK_FALLBACK:"+tt.fallback+"\nSSHD ASK GROUP lp\n")
			h.proc(10, 1, 0)
			h.asker = &fakeAsker{owner: tt.owner, ownerErr: tt.ownerErr, answer: tt.answer, askErr: tt.askErr}
			got := h.call(auth, 10, &fakePAM{user: "carol"}, "192.0.2.7", 0)
			if got != tt.want || h.asker.asked != tt.asked {
				t.Fatalf("code %d asked %d; want %d, %d\n%s", got, h.asker.asked, tt.want, tt.asked, strings.Join(h.log.lines, "\n"))
			}
			if len(h.log.grep(tt.reason)) == 0 {
				t.Errorf("no line says %q:\n%s", tt.reason, strings.Join(h.log.lines, "\n"))
			}
			// a question that went out, and its answer, are in the audit trail
			events, _ := os.ReadFile(trail)
			for _, kind := range []string{`"event":"ask_question"`, `"event":"ask_answer"`} {
				if strings.Contains(string(events), kind) != (tt.asked > 0) {
					t.Errorf("asked %d times; audit trail has %s: %v\n%s", tt.asked, kind, !(tt.asked > 0), events)
				}
			}
		})
	}
}

// TestApprovedLoginsAreNotAskedAgain: while an approved session lives, the
// same user from the same host gets in without a popup; when it closes,
// the desktop owner is told.
func TestApprovedLoginsAreNotAskedAgain(t *testing.T) {
	h := newHost(t, "DEFAULT:CLOSE\nSSHD ASK GROUP lp\n")
	h.proc(10, 1, 0)
	h.proc(20, 2, 0)
	h.asker = &fakeAsker{owner: &logind.Desktop{User: "dora", UID: 1000}, answer: dbusapi.Allow}
	first := &fakePAM{user: "carol"}
	if got := h.call(auth, 10, first, "192.0.2.7", 0); got != protocol.PAMSuccess {
		t.Fatal(got)
	}
	if got := h.call(account, 10, first, "192.0.2.7", 0); got != protocol.PAMSuccess {
		t.Fatal(got)
	}
	h.sessions.list = []rules.Session{{User: "carol", Service: "sshd", RHost: "192.0.2.7", Class: "user", State: "active"}}
	h.asker.answer = dbusapi.Deny
	if got := h.call(auth, 20, &fakePAM{user: "carol"}, "192.0.2.7", 0); got != protocol.PAMSuccess || h.asker.asked != 1 {
		t.Fatalf("second login: %d, asked %d", got, h.asker.asked)
	}
	if got := h.call(auth, 20, &fakePAM{user: "carol"}, "192.0.2.8", 0); got != protocol.PAMAuthErr || h.asker.asked != 2 {
		t.Fatalf("from another host: %d, asked %d", got, h.asker.asked)
	}
	h.call(closeS, 10, first, "192.0.2.7", 0)
	if len(h.asker.informed) != 1 || h.asker.informed[0].User != "carol" {
		t.Fatalf("informed %+v", h.asker.informed)
	}
}

// TestAskRemember: the desktop owner's "allow this host for 8 h" lets the
// user in from that host without a question, for 8 hours, while that
// owner is at the desktop; from another host, for another owner, with
// nobody at the desktop, once ASK_REMEMBER is off or the hours are over,
// the question is asked (or the fallback decides) as before.
func TestAskRemember(t *testing.T) {
	conf := "DEFAULT:CLOSE\nASK_REMEMBER:8\nSSHD ASK GROUP lp\n"
	h := newHost(t, conf)
	dora := &logind.Desktop{User: "dora", UID: 1000, Type: "x11"}
	h.asker = &fakeAsker{owner: dora, answer: dbusapi.AllowRemember}
	pid := int32(10)
	login := func(rhost string) int32 {
		pid++
		h.proc(pid, 1, 0)
		pam := &fakePAM{user: "carol"}
		if got := h.call(auth, pid, pam, rhost, 0); got != protocol.PAMSuccess {
			return got
		}
		return h.call(account, pid, pam, rhost, 0) // the password was right: the grant is kept
	}
	if got := login("192.0.2.7"); got != protocol.PAMSuccess || h.asker.last.Remember != 8 {
		t.Fatalf("first login: %d, offered %d h", got, h.asker.last.Remember)
	}
	if len(h.log.grep("allowed by the desktop owner \"dora\", and this host for 8 h")) != 1 {
		t.Errorf("no line says the grant:\n%s", strings.Join(h.log.lines, "\n"))
	}
	h.asker.answer = dbusapi.Deny
	h.now = h.now.Add(7 * time.Hour)
	if got := login("192.0.2.7"); got != protocol.PAMSuccess || h.asker.asked != 1 {
		t.Fatalf("7 h later, same host: %d, asked %d times; want in without a question", got, h.asker.asked)
	}
	if len(h.log.grep("for this host until 2026-11-29 20:00 (ASK_REMEMBER)")) != 1 {
		t.Errorf("no line says the grant let it in:\n%s", strings.Join(h.log.lines, "\n"))
	}
	for _, tt := range []struct {
		name  string
		setup func()
		rhost string
		asked int // questions so far after it
	}{
		{"another host", func() {}, "192.0.2.8", 2},
		{"another desktop owner", func() { h.asker.owner = &logind.Desktop{User: "erin", UID: 1001} }, "192.0.2.7", 3},
		{"nobody at the desktop (ASK_FALLBACK:CLOSE)", func() { h.asker.owner = nil }, "192.0.2.7", 3},
		{"ASK_REMEMBER off now", func() { h.asker.owner = dora; h.write("rules.conf", "DEFAULT:CLOSE\nSSHD ASK GROUP lp\n") }, "192.0.2.7", 4},
		{"the hours over", func() { h.write("rules.conf", conf); h.now = h.now.Add(2 * time.Hour) }, "192.0.2.7", 5},
	} {
		tt.setup()
		if got := login(tt.rhost); got == protocol.PAMSuccess || h.asker.asked != tt.asked {
			t.Errorf("%s: %d, asked %d times, want refused after %d", tt.name, got, h.asker.asked, tt.asked)
		}
	}
	// the offer is made only where it can be kept, and only its answer counts
	h.write("rules.conf", "DEFAULT:CLOSE\nSSHD ASK GROUP lp\n")
	h.asker.answer = dbusapi.AllowRemember
	if got := login("192.0.2.9"); got == protocol.PAMSuccess || h.asker.last.Remember != 0 {
		t.Errorf("allow-remember without the offer: %d (offered %d h); want refused", got, h.asker.last.Remember)
	}
	h.write("rules.conf", conf)
	h.asker.answer = dbusapi.Deny
	if login(""); h.asker.last.Remember != 0 {
		t.Errorf("offered %d h for no remote host", h.asker.last.Remember)
	}
	if login("trusted.example.org"); h.asker.last.Remember != 0 {
		t.Errorf("offered %d h for a host name (its reverse DNS could be anyone's)", h.asker.last.Remember)
	}
}

func TestPIN(t *testing.T) {
	tests := []struct {
		name    string
		mapping string
		mailErr error
		typed   func(pin string) []string
		want    int32
		reason  string
	}{
		{"right PIN", "alice alice@example.org\n", nil, func(p string) []string { return []string{p} }, protocol.PAMSuccess, "the mailed PIN was typed (try 1 of 3)"},
		{"lower case on the third try", "alice alice@example.org\n", nil,
			func(p string) []string { return []string{"x", "y", strings.ToLower(p)} }, protocol.PAMSuccess, "try 3 of 3"},
		{"three wrong", "alice alice@example.org\n", nil, func(string) []string { return []string{"a", "b", "c", "d"} },
			protocol.PAMAuthErr, "a wrong PIN 3 times"},
		{"no address", "bob bob@example.org\n", nil, nil, protocol.PAMAuthErr, "has no mail address"},
		{"relay down", "alice alice@example.org\n", errors.New("connection refused"), nil, protocol.PAMAuthErr, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "DEFAULT:CLOSE\nMAILSERVER:127.0.0.1:1\nSSHD PIN USER alice\n")
			h.write(rules.LoginMailMappingFile, tt.mapping)
			h.proc(10, 1, 0)
			h.mail.err = tt.mailErr
			pam := &fakePAM{user: "alice"}
			pam.onPrompt = func() {
				if pam.answers == nil && tt.typed != nil && len(h.mail.pins) == 1 {
					pam.answers = tt.typed(h.mail.pins[0])
				}
			}
			if got := h.call(auth, 10, pam, "", 0); got != tt.want {
				t.Fatalf("code %d, want %d\n%s", got, tt.want, strings.Join(h.log.lines, "\n"))
			}
			if len(h.log.grep(tt.reason)) == 0 {
				t.Errorf("no line says %q:\n%s", tt.reason, strings.Join(h.log.lines, "\n"))
			}
			for _, p := range h.mail.pins {
				if len(h.log.grep(p)) != 0 {
					t.Errorf("the PIN is in the log")
				}
			}
		})
	}
}

// TestNumberLockIsFreeWhileAPersonAnswers: a user who leaves a prompt
// unanswered (a plugin's, a PIN's) or a desktop owner who thinks holds no
// lock that others' logins need.
func TestNumberLockIsFreeWhileAPersonAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, rule string
	}{
		{"plugin prompt", "SSHD CODE USER alice"},
		{"PIN prompt", "SSHD PIN USER alice"},
		{"ASK", "SSHD ASK USER alice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, "DEFAULT:CLOSE\nMAILSERVER:127.0.0.1:1\n"+tt.rule+"\nSSHD NUMBER GROUP users:5\n")
			h.write("plugins/code.star", secondFactor)
			h.write(rules.LoginMailMappingFile, "alice alice@example.org\n")
			h.proc(10, 1, 0)
			locked := 0
			tryLock := func() {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				unlock, err := h.store().LockNumber(ctx)
				if err != nil {
					locked++
					return
				}
				unlock()
			}
			pam := &fakePAM{user: "alice", answers: []string{"1234"}}
			pam.onPrompt = func() {
				tryLock()
				if len(h.mail.pins) == 1 {
					pam.answers = []string{h.mail.pins[0]}
				}
			}
			h.asker = &fakeAsker{owner: &logind.Desktop{User: "dora", UID: 1000}, answer: dbusapi.Allow, onAsk: tryLock}
			if got := h.call(auth, 10, pam, "192.0.2.7", 0); got != protocol.PAMSuccess {
				t.Fatalf("code %d\n%s", got, strings.Join(h.log.lines, "\n"))
			}
			if locked != 0 {
				t.Fatalf("the NUMBER lock was held while a person answered")
			}
		})
	}
}

// TestNumberRecountedAfterAPersonAnswered: the place was taken while the
// desktop owner decided: the allowed login is refused all the same.
func TestNumberRecountedAfterAPersonAnswered(t *testing.T) {
	h := newHost(t, "DEFAULT:CLOSE\nSSHD ASK USER alice\nSSHD NUMBER GROUP users:1\n")
	h.proc(10, 1, 0)
	h.asker = &fakeAsker{owner: &logind.Desktop{User: "dora", UID: 1000}, answer: dbusapi.Allow, onAsk: func() {
		h.sessions.list = []rules.Session{{User: "bob", Service: "sshd", Class: "user", State: "active"}}
	}}
	if got := h.call(auth, 10, &fakePAM{user: "alice"}, "192.0.2.7", 0); got != protocol.PAMAuthErr {
		t.Fatalf("code %d", got)
	}
	if len(h.log.grep("allowed by the desktop owner \"dora\"; but meanwhile NUMBER limit reached")) != 1 {
		t.Errorf("log:\n%s", strings.Join(h.log.lines, "\n"))
	}
}

// TestNumberCountsPendingLogins: a login let in is counted until logind
// lists it, and stops counting when its session closes.
func TestNumberCountsPendingLogins(t *testing.T) {
	h := newHost(t, "DEFAULT:CLOSE\nSSHD OPEN GROUP users\nSSHD NUMBER GROUP users:1\n")
	h.proc(10, 1, 0)
	h.proc(20, 2, 0)
	alice := &fakePAM{user: "alice"}
	if got := h.call(auth, 10, alice, "", 0); got != protocol.PAMSuccess {
		t.Fatal(got)
	}
	if got := h.call(auth, 20, &fakePAM{user: "bob"}, "", 0); got != protocol.PAMAuthErr {
		t.Fatalf("a second user while the first is still logging in: %d", got)
	}
	h.call(closeS, 10, alice, "", 0)
	if got := h.call(auth, 20, &fakePAM{user: "bob"}, "", 0); got != protocol.PAMSuccess {
		t.Fatalf("after the first closed: %d", got)
	}
	h.sessions.err = errors.New("logind timed out")
	if got := h.call(auth, 30, &fakePAM{user: "carol"}, "", 0); got != protocol.PAMAuthErr {
		t.Fatalf("logind failing: %d", got)
	}
}

func TestDecisionTimeout(t *testing.T) {
	for _, tt := range []struct{ module, want time.Duration }{
		{120 * time.Second, 30 * time.Second},
		{10 * time.Second, 9 * time.Second},
		{time.Second, time.Second / 2},
	} {
		c := &call{args: Args{Timeout: tt.module}}
		if got := c.decisionTimeout(); got != tt.want {
			t.Errorf("decisionTimeout(%v) = %v, want %v", tt.module, got, tt.want)
		}
	}
}
