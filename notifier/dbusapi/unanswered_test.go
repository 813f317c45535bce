package dbusapi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/sysbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// rawNotifier owns uid's notifier name on a new connection to address and
// answers Ask with ask, a godbus method (not through Serve, which always
// answers allow, deny or timeout). It returns the connection.
func rawNotifier(t *testing.T, address string, uid uint32, ask any) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.ExportMethodTable(map[string]any{"Ask": ask}, Path, Interface); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(BusName(uid), dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("claiming %s: %v %v", BusName(uid), reply, err)
	}
	return conn
}

// privateBus starts a bus of its own for one test and makes it the system
// bus: each case owns root's notifier name afresh.
func privateBus(t *testing.T) *testbus.Bus {
	t.Helper()
	bus, err := testbus.StartBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Stop)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.Address)
	return bus
}

// TestAskUnanswered: once the question went out to the verified notifier,
// every failure is ErrUnanswered (the login must be refused, whatever
// ASK_FALLBACK says); before it, none is (nobody was asked).
func TestAskUnanswered(t *testing.T) {
	testenv.Root(t)
	needBus(t)
	req := Request{User: "u01", RHost: "10.0.0.5", Service: "sshd", Timeout: 30}

	unanswered := []struct {
		name string
		ctx  time.Duration // the caller's deadline
		// notifier sets up root's notifier on address and returns a
		// text the error must carry
		notifier func(t *testing.T, address string) string
	}{
		{"garbage answer", 5 * time.Second, func(t *testing.T, address string) string {
			rawNotifier(t, address, 0, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				return "maybe", nil
			})
			return `"maybe"`
		}},
		{"empty answer", 5 * time.Second, func(t *testing.T, address string) string {
			rawNotifier(t, address, 0, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				return "", nil
			})
			return `answered ""`
		}},
		{"answer of the wrong type", 5 * time.Second, func(t *testing.T, address string) string {
			rawNotifier(t, address, 0, func(user, rhost, service string, timeout uint32) (uint32, *dbus.Error) {
				return 1, nil
			})
			return ""
		}},
		{"D-Bus error reply", 5 * time.Second, func(t *testing.T, address string) string {
			rawNotifier(t, address, 0, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				return "", dbus.NewError("org.pamaccesscontrol.Error.Crashed", []any{"the prompt failed"})
			})
			return "the prompt failed"
		}},
		{"D-Bus error reply that reads as absence", 5 * time.Second, func(t *testing.T, address string) string {
			// an error named like "nobody owns that name" must not pass for
			// nobody to ask: the notifier was there and got the question
			rawNotifier(t, address, 0, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				return "", dbus.NewError("org.freedesktop.DBus.Error.ServiceUnknown", []any{"gone"})
			})
			return ""
		}},
		{"no answer before the caller's deadline", 300 * time.Millisecond, func(t *testing.T, address string) string {
			release := make(chan struct{})
			rawNotifier(t, address, 0, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				<-release
				return string(Allow), nil // too late
			})
			t.Cleanup(func() { close(release) }) // runs before the connection closes
			return "no answer in time"
		}},
		{"notifier disconnects while the question is pending", 10 * time.Second, func(t *testing.T, address string) string {
			arrived, release := make(chan struct{}, 1), make(chan struct{})
			conn := rawNotifier(t, address, 0, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				arrived <- struct{}{}
				<-release
				return string(Allow), nil // never sent: the connection is gone
			})
			t.Cleanup(func() { close(release) })
			go func() {
				<-arrived
				conn.Close() // as when the notifier's process dies
			}()
			return ""
		}},
	}
	for _, tt := range unanswered {
		t.Run(tt.name, func(t *testing.T) {
			bus := privateBus(t)
			want := tt.notifier(t, bus.Address)
			o, _ := desktopOf(t, bus.Address, 0, os.Getpid())
			d, err := Ask(ctxFor(t, tt.ctx), o, req)
			t.Logf("err = %v", err)
			if !errors.Is(err, ErrUnanswered) || d != "" {
				t.Fatalf("Ask = %q, %v; want ErrUnanswered", d, err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v; want it to say %q", err, want)
			}
			// nothing under it may pass for "nobody to ask"
			for _, other := range []error{ErrNoNotifier, ErrWrongOwner, sysbus.ErrAbsent} {
				if errors.Is(err, other) {
					t.Errorf("err = %v also matches %v", err, other)
				}
			}
		})
	}

	// before the question goes out: nobody was asked
	asked := []struct {
		name  string
		setup func(t *testing.T) uint32 // the uid to ask
		want  error
	}{
		{"no notifier", func(t *testing.T) uint32 {
			privateBus(t)
			return 777
		}, ErrNoNotifier},
		{"a squatter of another uid holds the name", func(t *testing.T) uint32 {
			bus := privateBus(t)
			// root, squatting uid 4242's name with a yes-man
			rawNotifier(t, bus.Address, 4242, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				return string(Allow), nil
			})
			return 4242
		}, ErrWrongOwner},
		{"no system bus", func(t *testing.T) uint32 {
			t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no_bus_socket"))
			return 0
		}, sysbus.ErrAbsent},
	}
	for _, tt := range asked {
		t.Run(tt.name, func(t *testing.T) {
			uid := tt.setup(t)
			// it fails before the session is looked at
			d, err := Ask(ctxFor(t, 5*time.Second), Owner{UID: uid, Session: "/org/freedesktop/login1/session/_1"}, req)
			if !errors.Is(err, tt.want) || d != "" {
				t.Fatalf("Ask = %q, %v; want %v", d, err, tt.want)
			}
			if errors.Is(err, ErrUnanswered) {
				t.Errorf("err = %v matches ErrUnanswered, yet no question went out", err)
			}
		})
	}
}

// TestAskAnswered: the three answers are answers, not errors.
func TestAskAnswered(t *testing.T) {
	testenv.Root(t)
	needBus(t)
	for _, answer := range []Decision{Allow, Deny, Timeout} {
		t.Run(string(answer), func(t *testing.T) {
			bus := privateBus(t)
			rawNotifier(t, bus.Address, 0, func(user, rhost, service string, timeout uint32) (string, *dbus.Error) {
				return string(answer), nil
			})
			o, _ := desktopOf(t, bus.Address, 0, os.Getpid())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if d, err := Ask(ctx, o, Request{User: "u01", Timeout: 5}); d != answer || err != nil {
				t.Errorf("Ask = %q, %v; want %q", d, err, answer)
			}
		})
	}
}
