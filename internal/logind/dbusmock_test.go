package logind

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/session"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestDBusMockCrossCheck reads sessions from Debian's python3-dbusmock
// logind template, written by others from logind's documentation, so that
// our fake and our client cannot share one misreading of the interface.
func TestDBusMockCrossCheck(t *testing.T) {
	python := "/usr/bin/python3"
	if exec.Command(python, "-c", "import dbusmock").Run() != nil {
		testenv.Missing(t, "python3-dbusmock")
	}
	bus := startBus(t)
	mock := exec.Command(python, "-m", "dbusmock", "--system", "--template", "logind")
	mock.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+bus.Address)
	mock.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mock.Process.Kill(); mock.Wait() })

	conn, err := dbus.Connect(bus.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	manager := conn.Object("org.freedesktop.login1", "/org/freedesktop/login1")
	for i := 0; ; i++ { // the template takes a moment to own its name
		var has bool
		conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.login1").Store(&has)
		if has {
			break
		}
		if i == 200 {
			t.Fatal("dbusmock's logind did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}
	add := func(id, seat string, uid uint32, user string, active bool) dbus.ObjectPath {
		var path dbus.ObjectPath
		if err := manager.Call("org.freedesktop.DBus.Mock.AddSession", 0, id, seat, uid, user, active).Store(&path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	set := func(path dbus.ObjectPath, name string, value any) {
		err := conn.Object("org.freedesktop.login1", path).Call("org.freedesktop.DBus.Properties.Set", 0,
			"org.freedesktop.login1.Session", name, dbus.MakeVariant(value)).Err
		if err != nil {
			t.Fatal(err)
		}
	}
	bob := add("c2", "seat0", 1002, "bob", false)
	set(bob, "Service", "sshd")
	set(bob, "RemoteHost", "10.0.0.5")
	alice := add("c1", "seat0", 1001, "alice", true) // the template makes the last added session active
	set(alice, "Type", "x11")

	got, err := (&Client{}).Sessions(ctx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]session.Session{
		"alice": {User: "alice", UID: 1001, Service: "dbusmock", Type: "x11", Class: "user", State: "active"},
		"bob":   {User: "bob", UID: 1002, Service: "sshd", RHost: "10.0.0.5", Type: "test", Class: "user", State: "online"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for _, s := range got {
		if s != want[s.User] {
			t.Errorf("got %+v\nwant %+v", s, want[s.User])
		}
	}
	d, ok, err := (&Client{}).DesktopOwner(ctx(t, 10*time.Second))
	if err != nil || !ok || d.User != "alice" || d.UID != 1001 || d.Session != "c1" {
		t.Errorf("desktop owner: %+v %v %v", d, ok, err)
	}
}
