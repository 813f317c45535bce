package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"alice", "alice"},
		{"evil\nuser\x1b[31m", "eviluser[31m"},
		{"rtl\u202eresu", "rtlresu"},
		{strings.Repeat("x", 70), strings.Repeat("x", 64) + "…"},
		{"日本語", "日本語"},
	} {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fakePrompter answers by the user's name: allow-me, deny-me, anything
// else waits for the countdown.
type fakePrompter struct {
	mu     sync.Mutex
	asked  []Request
	events []Event
}

func (p *fakePrompter) Ask(ctx context.Context, r Request) Decision {
	p.mu.Lock()
	p.asked = append(p.asked, r)
	p.mu.Unlock()
	switch r.User {
	case "allow-me":
		return Allow
	case "deny-me":
		return Deny
	case "remember-me":
		return AllowRemember
	}
	<-ctx.Done()
	return Timeout
}

func (p *fakePrompter) Inform(e Event) {
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
}

func needBus(t *testing.T) {
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testenv.Missing(t, "dbus-daemon")
	}
}

// serve runs a notifier for uid on a new connection to address.
func serve(t *testing.T, address string, uid uint32, p Prompter) {
	t.Helper()
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := Serve(conn, uid, p); err != nil {
		t.Fatal(err)
	}
}

// desktopOf is a desktop session of uid on the bus, with a fake logind
// that puts the processes pids in it: whom Ask may ask.
func desktopOf(t *testing.T, address string, uid uint32, pids ...int) (Owner, *logindtest.Fake) {
	t.Helper()
	f, err := logindtest.New(address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	id := fmt.Sprintf("d%d", uid)
	if err := f.Add(logindtest.Session{ID: id, UID: uid, User: "owner", Type: "wayland", Class: "user", State: "active", Seat: "seat0"}); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		f.SetPIDSession(uint32(pid), id)
	}
	return Owner{UID: uid, Session: logindtest.SessionPath(id)}, f
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// TestProtocol runs as root: the notifier here is root's (uid 0).
func TestProtocol(t *testing.T) {
	testenv.Root(t)
	needBus(t)
	bus, err := testbus.StartBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Stop)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.Address)
	p := &fakePrompter{}
	serve(t, bus.Address, 0, p)
	o, logind := desktopOf(t, bus.Address, 0, os.Getpid())

	if d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "allow-me", RHost: "10.0.0.5", Service: "sshd", Timeout: 5}); err != nil || d != Allow {
		t.Errorf("allow: %v, %v", d, err)
	}
	if d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "deny-me", Timeout: 5}); err != nil || d != Deny {
		t.Errorf("deny: %v, %v", d, err)
	}
	start := time.Now()
	if d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "nobody-answers", Timeout: 1}); err != nil || d != Timeout {
		t.Errorf("countdown: %v, %v", d, err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("the countdown of 1 s took %v", time.Since(start))
	}
	// the caller's own deadline, shorter than the countdown
	if _, err := Ask(ctxFor(t, 300*time.Millisecond), o, Request{User: "nobody-answers", Timeout: 30}); err == nil || !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("caller deadline: err = %v", err)
	}
	// several requests at once are all answered
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "allow-me", Timeout: 5}); d != Allow || err != nil {
				t.Errorf("concurrent: %v %v", d, err)
			}
		}()
	}
	wg.Wait()
	// user strings arrive cleaned
	Ask(ctxFor(t, 5*time.Second), o, Request{User: "deny-me", RHost: "host\n\x1b[2J", Timeout: 5})
	p.mu.Lock()
	last := p.asked[len(p.asked)-1]
	p.mu.Unlock()
	if last.RHost != "host[2J" {
		t.Errorf("rhost shown as %q", last.RHost)
	}

	if err := Inform(ctxFor(t, 5*time.Second), 0, Event{Kind: EventClosed, User: "bob", RHost: "10.0.0.5", Service: "sshd"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		p.mu.Lock()
		n := len(p.events)
		p.mu.Unlock()
		if n == 1 {
			break
		}
		if i == 100 {
			t.Fatal("Inform did not arrive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, err := Ping(ctxFor(t, 5*time.Second), 0); v != Version || err != nil {
		t.Errorf("ping: %q %v", v, err)
	}

	// no notifier for uid 777: nobody can answer
	if _, err := Ask(ctxFor(t, 5*time.Second), Owner{UID: 777, Session: o.Session}, Request{User: "allow-me"}); !errors.Is(err, ErrNoNotifier) {
		t.Errorf("no notifier: err = %v", err)
	}
	// root squats uid 4242's name: the client refuses to believe it
	serve(t, bus.Address, 4242, &fakePrompter{})
	if d, err := Ask(ctxFor(t, 5*time.Second), Owner{UID: 4242, Session: o.Session}, Request{User: "allow-me"}); !errors.Is(err, ErrWrongOwner) || d == Allow {
		t.Errorf("squatter: %v, err = %v", d, err)
	}
	// the owner's notifier in another session of theirs (xrdp, a nested
	// desktop), or in none: the question would reach nobody at the seat
	for _, where := range []string{"xrdp-5", ""} {
		logind.SetPIDSession(uint32(os.Getpid()), where)
		if d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "allow-me", Timeout: 5}); !errors.Is(err, ErrOtherSession) || d != "" {
			t.Errorf("notifier in session %q: %v, err = %v", where, d, err)
		}
	}
	if _, err := Ask(ctxFor(t, 5*time.Second), Owner{UID: 0}, Request{User: "allow-me", Timeout: 5}); !errors.Is(err, ErrOtherSession) {
		t.Errorf("no session named: err = %v", err)
	}
	// Inform and Ping reach the owner in any session
	if _, err := Ping(ctxFor(t, 5*time.Second), 0); err != nil {
		t.Errorf("ping from another session: %v", err)
	}
	// a second notifier cannot take a name that is owned
	conn, _ := dbus.Connect(bus.Address)
	defer conn.Close()
	if err := Serve(conn, 0, p); err == nil {
		t.Error("a second notifier took the name")
	}
}

// TestPolicy runs the real policy file on a bus with the system bus's
// default policy, with processes of two uids: root and nobody (65534).
func TestPolicy(t *testing.T) {
	testenv.Root(t)
	needBus(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		testenv.Missing(t, "setpriv (util-linux)")
	}
	policy, _ := filepath.Abs("../org.pamaccesscontrol.Notifier.conf")
	// logind's own policy, as systemd ships it: root owns the name, anyone calls it
	login1 := filepath.Join(t.TempDir(), "login1.conf")
	if err := os.WriteFile(login1, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.freedesktop.login1"/></policy>
  <policy context="default"><allow send_destination="org.freedesktop.login1"/></policy>
</busconfig>
`), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(login1), 0o755)
	bus, err := testbus.StartSystemBus(policy, login1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Stop)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.Address)
	self := copyTestBinary(t)

	// nobody's notifier claims its name and waits
	notifier := asNobody(self, "-test.run=^TestNobodyNotifier$")
	notifier.Env = append(os.Environ(), "PAMAC_NOTIFIER_BUS="+bus.Address)
	if err := notifier.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { notifier.Process.Kill(); notifier.Wait() })
	o, _ := desktopOf(t, bus.Address, 65534, notifier.Process.Pid)
	var d Decision
	for i := 0; i < 100; i++ {
		if d, err = Ask(ctxFor(t, 5*time.Second), o, Request{User: "allow-me", Timeout: 5}); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || d != Allow {
		t.Fatalf("root asking nobody's notifier: %v, %v", d, err)
	}
	// nobody may not call a notifier, nor own other names
	out, err := asNobodyRun(self, "-test.run=^TestNobodyCaller$", bus.Address)
	if err != nil {
		t.Fatalf("nobody's calls were not refused:\n%s", out)
	}
}

func copyTestBinary(t *testing.T) string {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	for d := filepath.Dir(dir); d != "/" && d != "/tmp"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dbusapi.test")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func asNobody(bin string, args ...string) *exec.Cmd {
	return exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
}

func asNobodyRun(bin, run, address string) (string, error) {
	cmd := asNobody(bin, run, "-test.v")
	cmd.Env = append(os.Environ(), "PAMAC_NOTIFIER_BUS="+address)
	out, err := cmd.CombinedOutput()
	if err == nil && !strings.Contains(string(out), "--- PASS") {
		err = errors.New("did not run")
	}
	return string(out), err
}

// TestNobodyNotifier is run as nobody by TestPolicy.
func TestNobodyNotifier(t *testing.T) {
	address := os.Getenv("PAMAC_NOTIFIER_BUS")
	if address == "" {
		t.Skip("run by TestPolicy")
	}
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatal(err)
	}
	if err := Serve(conn, uint32(os.Getuid()), &fakePrompter{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Second)
}

// TestNobodyCaller is run as nobody by TestPolicy: each of these must fail.
func TestNobodyCaller(t *testing.T) {
	address := os.Getenv("PAMAC_NOTIFIER_BUS")
	if address == "" {
		t.Skip("run by TestPolicy")
	}
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatal(err)
	}
	var unique string
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, BusName(65534)).Store(&unique); err != nil {
		t.Fatal(err)
	}
	var answer string
	err = conn.Object(unique, Path).Call(Interface+".Ask", 0, "allow-me", "", "sshd", uint32(5)).Store(&answer)
	if err == nil || !strings.Contains(err.Error(), "Rejected") {
		t.Errorf("nobody called a notifier: %q, %v", answer, err)
	}
	reply, err := conn.RequestName("org.freedesktop.login1", dbus.NameFlagDoNotQueue)
	if err == nil && reply == dbus.RequestNameReplyPrimaryOwner {
		t.Error("nobody took org.freedesktop.login1")
	}
	reply, err = conn.RequestName(BusName(1234), dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Errorf("any user may own a notifier name (the client checks its uid): %v %v", reply, err)
	}
}

// oldNotifier is a notifier of before ASK_REMEMBER (version 1): Ask and
// Ping only.
type oldNotifier struct{ asked chan string }

func (o oldNotifier) Ask(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
	o.asked <- user
	return string(Allow), nil
}
func (oldNotifier) Ping() (string, *dbus.Error) { return "1", nil }

// TestAskRemember: the offer to allow a host for hours goes to a notifier
// that knows it, and its answer comes back; a notifier that says it
// without the offer has said nothing; one of before the offer is asked
// without it.
func TestAskRemember(t *testing.T) {
	testenv.Root(t)
	needBus(t)
	newBus := func() string {
		bus, err := testbus.StartBus()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(bus.Stop)
		return bus.Address
	}
	addr := newBus()
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	p := &fakePrompter{}
	serve(t, addr, 0, p)
	o, _ := desktopOf(t, addr, 0, os.Getpid())
	if d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "remember-me", RHost: "10.0.0.5", Service: "sshd", Timeout: 5, Remember: 8}); err != nil || d != AllowRemember {
		t.Errorf("offered: %v, %v; want allow-remember", d, err)
	}
	p.mu.Lock()
	if last := p.asked[len(p.asked)-1]; last.Remember != 8 {
		t.Errorf("the notifier was offered %d hours, want 8", last.Remember)
	}
	p.mu.Unlock()
	if d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "remember-me", RHost: "10.0.0.5", Service: "sshd", Timeout: 5}); err != nil || d != Timeout {
		t.Errorf("not offered, yet said: %v, %v; want timeout", d, err)
	}

	// a notifier started before the upgrade, on a bus of its own
	addr = newBus()
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	old := oldNotifier{asked: make(chan string, 1)}
	if err := conn.Export(old, Path, Interface); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.RequestName(BusName(0), dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
	o, _ = desktopOf(t, addr, 0, os.Getpid())
	d, err := Ask(ctxFor(t, 5*time.Second), o, Request{User: "old", RHost: "10.0.0.5", Service: "sshd", Timeout: 5, Remember: 8})
	if err != nil || d != Allow {
		t.Errorf("the old notifier: %v, %v; want allow", d, err)
	}
	select {
	case u := <-old.asked:
		if u != "old" {
			t.Errorf("the old notifier was asked about %q", u)
		}
	default:
		t.Error("the old notifier's Ask was not called")
	}
}
