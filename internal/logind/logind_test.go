package logind

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/session"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// startFake runs a private system bus with the fake logind on it, and
// points this process's system bus there.
func startFake(t *testing.T) *logindtest.Fake {
	t.Helper()
	bus := startBus(t)
	f, err := logindtest.New(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func startBus(t *testing.T) *testbus.Bus {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testenv.Missing(t, "dbus-daemon")
	}
	bus, err := testbus.StartBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Stop)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.Address)
	return bus
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

var sessions = []logindtest.Session{
	{ID: "2", UID: 1001, User: "alice", Service: "sddm", Type: "x11", Class: "user", State: "active", Seat: "seat0"},
	{ID: "7", UID: 1002, User: "bob", Service: "sshd", RHost: "10.0.0.5", Type: "tty", Class: "user", State: "online", Remote: true},
	{ID: "c1", UID: 108, User: "sddm", Service: "sddm-greeter", Type: "x11", Class: "greeter", State: "online", Seat: "seat0"},
	{ID: "9", UID: 1003, User: "carol", Service: "sshd", RHost: "10.0.0.6", Type: "tty", Class: "user", State: "closing", Remote: true},
}

func TestSessions(t *testing.T) {
	f := startFake(t)
	for _, s := range sessions {
		if err := f.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := (&Client{}).Sessions(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []session.Session{ // ListSessions order: by id
		{User: "alice", UID: 1001, Service: "sddm", Type: "x11", Class: "user", State: "active"},
		{User: "bob", UID: 1002, Service: "sshd", RHost: "10.0.0.5", Type: "tty", Class: "user", State: "online"},
		{User: "carol", UID: 1003, Service: "sshd", RHost: "10.0.0.6", Type: "tty", Class: "user", State: "closing"},
		{User: "sddm", UID: 108, Service: "sddm-greeter", Type: "x11", Class: "greeter", State: "online"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	f.Remove("7")
	got, err = (&Client{}).Sessions(ctx(t, 5*time.Second))
	if err != nil || len(got) != 3 {
		t.Fatalf("after removing bob's session: %+v, %v", got, err)
	}
}

func TestDesktopOwner(t *testing.T) {
	f := startFake(t)
	for _, s := range sessions {
		f.Add(s)
	}
	f.Add(logindtest.Session{ID: "10", UID: 1001, User: "alice", Type: "wayland", Class: "user", State: "active", Seat: "seat0", Locked: true})
	tests := []struct {
		active string
		want   Desktop
		ok     bool
	}{
		{"2", Desktop{User: "alice", UID: 1001, Session: "2", Path: "/org/freedesktop/login1/session/_2", Type: "x11"}, true},
		{"c1", Desktop{Absent: "seat0's session c1 (sddm) is a greeter, not a user's desktop"}, false},
		{"7", Desktop{Absent: `seat0's session 7 (bob) is of type "tty", not x11 or wayland`}, false},
		{"10", Desktop{Absent: "seat0's session 10 (alice) is locked"}, false},
		{"", Desktop{Absent: "seat0 has no active session"}, false},
	}
	for _, tt := range tests {
		f.Activate(tt.active)
		d, ok, err := (&Client{}).DesktopOwner(ctx(t, 5*time.Second))
		if err != nil || ok != tt.ok || d != tt.want {
			t.Errorf("active %q: %+v, %v, %v; want %+v, %v", tt.active, d, ok, err, tt.want, tt.ok)
		}
	}
	f.Add(logindtest.Session{ID: "3", UID: 1004, User: "dave", Type: "wayland", Class: "user", State: "active", Seat: "seat0"})
	f.Activate("3")
	if d, ok, _ := (&Client{}).DesktopOwner(ctx(t, 5*time.Second)); !ok || d.User != "dave" || d.Type != "wayland" {
		t.Errorf("wayland desktop: %+v %v", d, ok)
	}
}

// TestAbsentFallsBackToUtmp: no one owns logind's name, or there is no bus
// at all: utmp answers. With no utmp either, it is an error.
func TestAbsentFallsBackToUtmp(t *testing.T) {
	utmp := filepath.Join(t.TempDir(), "utmp")
	writeUtmp(t, utmp, utmpEntry(utmpUserProcess, int32(1), "alice", "pts/0", "10.0.0.5"))
	var said []string
	c := &Client{Utmp: utmp, Debugf: func(f string, a ...any) { said = append(said, f) }}

	startBus(t) // a bus without logind
	got, err := c.Sessions(ctx(t, 5*time.Second))
	if err != nil || len(got) != 1 || got[0].User != "alice" {
		t.Fatalf("bus without logind: %+v, %v", got, err)
	}
	if len(said) != 1 || !strings.Contains(said[0], "from %s") {
		t.Errorf("the fallback must be said in the debug log: %q", said)
	}

	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	if got, err := c.Sessions(ctx(t, 5*time.Second)); err != nil || len(got) != 1 {
		t.Fatalf("no bus: %+v, %v", got, err)
	}

	if _, err := os.Stat("/run/dbus/system_bus_socket"); err != nil {
		t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "") // no bus at the default paths either
		if got, err := c.Sessions(ctx(t, 5*time.Second)); err != nil || len(got) != 1 {
			t.Fatalf("no bus at all: %+v, %v", got, err)
		}
	}

	c.Utmp = filepath.Join(t.TempDir(), "no-utmp")
	if _, err := c.Sessions(ctx(t, 5*time.Second)); err == nil || !strings.Contains(err.Error(), "utmp") {
		t.Fatalf("no logind and no utmp: err = %v", err)
	}
}

// TestSlowLogind: a logind that does not answer in time is an error (and
// NUMBER denies), not "absent" (which would count utmp instead), and the
// call returns at the deadline.
func TestSlowLogind(t *testing.T) {
	f := startFake(t)
	f.Add(sessions[0])
	f.SetDelay(3 * time.Second)
	utmp := filepath.Join(t.TempDir(), "utmp")
	writeUtmp(t, utmp)
	start := time.Now()
	_, err := (&Client{Utmp: utmp}).Sessions(ctx(t, 300*time.Millisecond))
	if err == nil || errors.Is(err, ErrAbsent) || !strings.Contains(err.Error(), "no answer in time") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v; the deadline was 300ms", d)
	}
	if _, _, err := (&Client{}).DesktopOwner(ctx(t, 300*time.Millisecond)); err == nil {
		t.Error("DesktopOwner: a slow logind must be an error")
	}
}
