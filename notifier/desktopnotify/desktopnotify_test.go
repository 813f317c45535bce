package desktopnotify

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
)

// mockServer is Debian's python3-dbusmock notification daemon on a bus of
// its own, with the capabilities given; it remembers the calls it gets,
// and emits what the test asks (org.freedesktop.DBus.Mock).
type mockServer struct {
	addr string     // the bus
	conn *dbus.Conn // the test's connection: the session bus of the Asker
	mock dbus.BusObject
}

func startServer(t *testing.T, caps string) *mockServer {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testenv.Missing(t, "dbus-daemon")
	}
	if exec.Command("/usr/bin/python3", "-c", "import dbusmock").Run() != nil {
		testenv.Missing(t, "python3-dbusmock")
	}
	bus, err := testbus.StartBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Stop)
	cmd := exec.Command("/usr/bin/python3", "-m", "dbusmock", "--session", "-t", "notification_daemon",
		"-p", `{"capabilities": "`+caps+`"}`)
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus.Address)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	conn, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for i := 0; ; i++ {
		var has bool
		if conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, busName).Store(&has) == nil && has {
			break
		}
		if i == 200 {
			t.Fatal("the mock notification server did not come up")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return &mockServer{addr: bus.Address, conn: conn, mock: conn.Object(busName, path)}
}

// call is one call the mock server got.
type call struct {
	At     uint64
	Method string
	Args   []dbus.Variant
}

// calls are the calls the server got, oldest first.
func (m *mockServer) calls(t *testing.T) []call {
	t.Helper()
	var calls []call
	if err := m.mock.Call("org.freedesktop.DBus.Mock.GetCalls", 0).Store(&calls); err != nil {
		t.Fatal(err)
	}
	return calls
}

// notifies returns the Notify calls the server got: their id argument
// (replaces_id), body and actions.
func (m *mockServer) notifies(t *testing.T) (bodies []string, actions [][]string, replaces []uint32) {
	t.Helper()
	for _, c := range m.calls(t) {
		if c.Method == "Notify" {
			replaces = append(replaces, c.Args[1].Value().(uint32))
			bodies = append(bodies, c.Args[4].Value().(string))
			actions = append(actions, c.Args[5].Value().([]string))
		}
	}
	return
}

// closes counts the CloseNotification calls.
func (m *mockServer) closes(t *testing.T) int {
	n := 0
	for _, c := range m.calls(t) {
		if c.Method == "CloseNotification" {
			n++
		}
	}
	return n
}

// emit has the server send a signal, as a click or a dismissal would.
func (m *mockServer) emit(t *testing.T, name, sig string, args ...any) {
	t.Helper()
	if err := m.mock.Call("org.freedesktop.DBus.Mock.EmitSignal", 0, iface, name, sig, args).Err; err != nil {
		t.Fatal(err)
	}
}

// waitShown waits for the first Notify.
func (m *mockServer) waitShown(t *testing.T) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if b, _, _ := m.notifies(t); len(b) > 0 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("no notification was shown")
}

var request = dbusapi.Request{User: "alice", RHost: "192.0.2.7", Service: "sshd", Timeout: 30}

func TestAskAnswers(t *testing.T) {
	for _, tt := range []struct {
		name string
		act  func(m *mockServer, t *testing.T)
		want dbusapi.Decision
	}{
		{"Allow", func(m *mockServer, t *testing.T) { m.emit(t, "ActionInvoked", "us", uint32(1), "allow") }, dbusapi.Allow},
		{"Deny", func(m *mockServer, t *testing.T) { m.emit(t, "ActionInvoked", "us", uint32(1), "deny") }, dbusapi.Deny},
		{"a click on the notification", func(m *mockServer, t *testing.T) { m.emit(t, "ActionInvoked", "us", uint32(1), "default") }, dbusapi.Deny},
		{"dismissed", func(m *mockServer, t *testing.T) { m.emit(t, "NotificationClosed", "uu", uint32(1), uint32(2)) }, dbusapi.Deny},
		{"another notification's Allow, then its own Deny", func(m *mockServer, t *testing.T) {
			m.emit(t, "ActionInvoked", "us", uint32(7), "allow")
			m.emit(t, "ActionInvoked", "us", uint32(1), "deny")
		}, dbusapi.Deny},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := startServer(t, "actions body")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := make(chan dbusapi.Decision, 1)
			go func() {
				d, err := Asker{Conn: m.conn}.Ask(ctx, request)
				if err != nil {
					t.Errorf("Ask: %v", err)
				}
				got <- d
			}()
			m.waitShown(t)
			tt.act(m, t)
			select {
			case d := <-got:
				if d != tt.want {
					t.Errorf("answer %q, want %q", d, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no answer")
			}
			bodies, actions, _ := m.notifies(t)
			if !strings.Contains(bodies[0], "alice wants to log in from 192.0.2.7 through sshd.") || !strings.Contains(bodies[0], "Denied in") {
				t.Errorf("body %q", bodies[0])
			}
			if strings.Join(actions[0], ",") != "deny,Deny,allow,Allow" {
				t.Errorf("actions %q", actions[0])
			}
		})
	}
}

// TestAskTimesOut: nobody answers, the countdown is kept up to date on the
// same notification, and when the time is up it is taken away.
func TestAskTimesOut(t *testing.T) {
	m := startServer(t, "actions body")
	ctx, cancel := context.WithTimeout(context.Background(), refresh+2*time.Second)
	defer cancel()
	start := time.Now()
	d, err := Asker{Conn: m.conn}.Ask(ctx, request)
	if err != nil || d != dbusapi.Timeout {
		t.Fatalf("Ask = %q, %v; want timeout", d, err)
	}
	if took := time.Since(start); took > refresh+4*time.Second {
		t.Errorf("took %v", took)
	}
	bodies, _, replaces := m.notifies(t)
	if len(bodies) < 2 || replaces[0] != 0 || replaces[1] != 1 {
		t.Errorf("Notify calls replacing %v: want the question, then its update in place", replaces)
	}
	if m.closes(t) == 0 {
		t.Error("the notification was left on screen")
	}
}

// TestAskImpostor: a signal that claims an answer but comes from another
// program of the session is not the server's, and not an answer.
func TestAskImpostor(t *testing.T) {
	m := startServer(t, "actions body")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got := make(chan dbusapi.Decision, 1)
	go func() {
		d, _ := Asker{Conn: m.conn}.Ask(ctx, request)
		got <- d
	}()
	m.waitShown(t)
	impostor, err := dbus.Connect(m.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer impostor.Close()
	if err := impostor.Emit(path, iface+".ActionInvoked", uint32(1), "allow"); err != nil {
		t.Fatal(err)
	}
	if d := <-got; d != dbusapi.Timeout {
		t.Errorf("answer %q, want timeout: another program answered", d)
	}
}

// TestNoActions: a server that cannot show buttons, or none, is said to be
// so before anything is shown: the notifier shows its own window.
func TestNoActions(t *testing.T) {
	m := startServer(t, "body body-markup")
	if _, err := (Asker{Conn: m.conn}).Ask(context.Background(), request); !errors.Is(err, ErrNoActions) {
		t.Errorf("a server without actions: %v, want ErrNoActions", err)
	}
	if b, _, _ := m.notifies(t); len(b) != 0 {
		t.Errorf("shown anyway: %q", b)
	}
}

func TestBodyEscapesMarkup(t *testing.T) {
	r := dbusapi.Request{User: `<a href="x">eve</a>&`, Service: "sshd", Timeout: 30}
	if got := Body(r, 30*time.Second, true); strings.Contains(got, "<a") || !strings.Contains(got, "&lt;a href=") || !strings.Contains(got, "&amp;") {
		t.Errorf("with markup: %q", got)
	}
	if got := Body(r, 30*time.Second, false); !strings.Contains(got, `<a href="x">eve</a>&`) {
		t.Errorf("without markup: %q", got)
	}
	if got := Body(r, 29600*time.Millisecond, false); !strings.Contains(got, "this machine") || !strings.Contains(got, "Denied in 30 s") {
		t.Errorf("local, 29.6 s left: %q", got)
	}
}

// TestAskRemember: with ASK_REMEMBER's offer the notification has a third
// action, and choosing it is the answer; without the offer that key is
// no yes.
func TestAskRemember(t *testing.T) {
	for _, tt := range []struct {
		name     string
		remember uint32
		want     dbusapi.Decision
	}{{"offered", 8, dbusapi.AllowRemember}, {"not offered", 0, dbusapi.Deny}} {
		t.Run(tt.name, func(t *testing.T) {
			m := startServer(t, "actions body")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := make(chan dbusapi.Decision, 1)
			r := request
			r.Remember = tt.remember
			go func() {
				d, _ := Asker{Conn: m.conn}.Ask(ctx, r)
				got <- d
			}()
			m.waitShown(t)
			m.emit(t, "ActionInvoked", "us", uint32(1), "allow-remember")
			if d := <-got; d != tt.want {
				t.Errorf("answer %q, want %q", d, tt.want)
			}
			_, actions, _ := m.notifies(t)
			want := "deny,Deny,allow,Allow"
			if tt.remember > 0 {
				want += ",allow-remember,Allow for 8 h"
			}
			if strings.Join(actions[0], ",") != want {
				t.Errorf("actions %q, want %q", actions[0], want)
			}
		})
	}
}

// TestHungServer: a notification server that does not answer costs a
// couple of seconds, then the notifier asks in its window: the countdown
// is not spent waiting for it.
func TestHungServer(t *testing.T) {
	m := startServer(t, "actions body")
	if err := m.mock.Call("org.freedesktop.DBus.Mock.AddMethod", 0, iface, "GetCapabilities", "", "as",
		"import time\ntime.sleep(20)\nret = ['actions']").Err; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Asker{Conn: m.conn}.Ask(ctx, request)
	if !errors.Is(err, ErrNoActions) {
		t.Errorf("a hung server: %v, want ErrNoActions", err)
	}
	if took := time.Since(start); took > callTimeout+time.Second {
		t.Errorf("took %v", took)
	}
}
