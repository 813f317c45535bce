// Package logindtest is a stand-in for systemd-logind, which needs systemd
// as PID 1 and so cannot run in tests: a fake that owns
// org.freedesktop.login1 on a private bus (testbus) and answers
// ListSessions and the session and seat properties pam-accesscontrol reads.
package logindtest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// Session is one session the fake reports.
type Session struct {
	ID      string
	UID     uint32
	User    string
	Service string
	RHost   string
	Type    string // x11, wayland, tty
	Class   string // user, greeter, lock-screen
	State   string // active, online, closing
	Remote  bool
	Seat    string // "seat0" or ""
	Locked  bool   // LockedHint: the screen is locked
}

// Fake owns org.freedesktop.login1 on a bus.
type Fake struct {
	conn *dbus.Conn

	mu       sync.Mutex
	sessions map[string]Session
	active   string // seat0's ActiveSession id
	delay    time.Duration
	pids     map[uint32]string // process -> session, for GetSessionByPID
}

// New connects to the bus at address and takes logind's name.
func New(address string) (*Fake, error) {
	conn, err := dbus.Connect(address)
	if err != nil {
		return nil, err
	}
	f := &Fake{conn: conn, sessions: map[string]Session{}, pids: map[uint32]string{}}
	if err := conn.Export(manager{f}, "/org/freedesktop/login1", "org.freedesktop.login1.Manager"); err != nil {
		conn.Close()
		return nil, err
	}
	if err := conn.Export(seat{f}, "/org/freedesktop/login1/seat/seat0", "org.freedesktop.DBus.Properties"); err != nil {
		conn.Close()
		return nil, err
	}
	reply, err := conn.RequestName("org.freedesktop.login1", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("owning org.freedesktop.login1: %v (reply %v)", err, reply)
	}
	return f, nil
}

// Close releases the name.
func (f *Fake) Close() { f.conn.Close() }

// Add adds or replaces a session.
func (f *Fake) Add(s Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[s.ID] = s
	return f.conn.Export(session{f, s.ID}, sessionPath(s.ID), "org.freedesktop.DBus.Properties")
}

// Remove removes a session.
func (f *Fake) Remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, id)
	f.conn.Export(nil, sessionPath(id), "org.freedesktop.DBus.Properties")
	if f.active == id {
		f.active = ""
	}
}

// Activate makes a session seat0's active one ("" for none).
func (f *Fake) Activate(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active = id
}

// SetPIDSession puts process pid in session id ("" takes it out of any),
// for GetSessionByPID.
func (f *Fake) SetPIDSession(pid uint32, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == "" {
		delete(f.pids, pid)
		return
	}
	f.pids[pid] = id
}

// SessionPath is the object path of session id, as logind names it.
func SessionPath(id string) string { return string(sessionPath(id)) }

// SetDelay makes every answer wait d, like a logind that hangs.
func (f *Fake) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

func (f *Fake) wait() {
	f.mu.Lock()
	d := f.delay
	f.mu.Unlock()
	time.Sleep(d)
}

func sessionPath(id string) dbus.ObjectPath {
	return dbus.ObjectPath("/org/freedesktop/login1/session/_" + strings.NewReplacer("-", "_2d").Replace(id))
}

type manager struct{ f *Fake }

// GetSessionByPID returns the session process pid belongs to.
func (m manager) GetSessionByPID(pid uint32) (dbus.ObjectPath, *dbus.Error) {
	m.f.wait()
	m.f.mu.Lock()
	defer m.f.mu.Unlock()
	id, ok := m.f.pids[pid]
	if !ok {
		return "", dbus.NewError("org.freedesktop.login1.NoSessionForPID", []any{fmt.Sprintf("PID %d does not belong to any known session", pid)})
	}
	return sessionPath(id), nil
}

// ListSessions returns a(susso): id, uid, user, seat, path.
func (m manager) ListSessions() ([]struct {
	ID   string
	UID  uint32
	User string
	Seat string
	Path dbus.ObjectPath
}, *dbus.Error) {
	m.f.wait()
	m.f.mu.Lock()
	defer m.f.mu.Unlock()
	ids := make([]string, 0, len(m.f.sessions))
	for id := range m.f.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]struct {
		ID   string
		UID  uint32
		User string
		Seat string
		Path dbus.ObjectPath
	}, len(ids))
	for i, id := range ids {
		s := m.f.sessions[id]
		out[i].ID, out[i].UID, out[i].User, out[i].Seat, out[i].Path = id, s.UID, s.User, s.Seat, sessionPath(id)
	}
	return out, nil
}

type session struct {
	f  *Fake
	id string
}

func (s session) GetAll(iface string) (map[string]dbus.Variant, *dbus.Error) {
	s.f.wait()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	x, ok := s.f.sessions[s.id]
	if !ok || iface != "org.freedesktop.login1.Session" {
		return nil, dbus.NewError("org.freedesktop.DBus.Error.UnknownObject", []any{"no session " + s.id})
	}
	return map[string]dbus.Variant{
		"Id":   dbus.MakeVariant(x.ID),
		"Name": dbus.MakeVariant(x.User),
		"User": dbus.MakeVariant(struct {
			UID  uint32
			Path dbus.ObjectPath
		}{x.UID, dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/login1/user/_%d", x.UID))}),
		"Service":    dbus.MakeVariant(x.Service),
		"RemoteHost": dbus.MakeVariant(x.RHost),
		"Type":       dbus.MakeVariant(x.Type),
		"Class":      dbus.MakeVariant(x.Class),
		"State":      dbus.MakeVariant(x.State),
		"Remote":     dbus.MakeVariant(x.Remote),
		"Active":     dbus.MakeVariant(s.f.active == s.id),
		"LockedHint": dbus.MakeVariant(x.Locked),
	}, nil
}

type seat struct{ f *Fake }

func (s seat) Get(iface, name string) (dbus.Variant, *dbus.Error) {
	s.f.wait()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if iface != "org.freedesktop.login1.Seat" || name != "ActiveSession" {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{name})
	}
	path := dbus.ObjectPath("/")
	if s.f.active != "" {
		path = sessionPath(s.f.active)
	}
	return dbus.MakeVariant(struct {
		ID   string
		Path dbus.ObjectPath
	}{s.f.active, path}), nil
}
