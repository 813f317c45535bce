// Package logind asks systemd-logind who is logged in: the live sessions
// NUMBER counts and the owner of the local desktop ASK asks. Each call opens
// its own private connection to the system bus and runs under the caller's
// deadline, since neither godbus nor dbus-daemon ever time out a call on
// their own. Where logind is absent (containers, non-systemd machines),
// Sessions falls back to utmp, as pam_limits does.
package logind

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/session"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/sysbus"
)

const (
	busName     = "org.freedesktop.login1"
	managerPath = "/org/freedesktop/login1"
	managerIf   = "org.freedesktop.login1.Manager"
	sessionIf   = "org.freedesktop.login1.Session"
	seatIf      = "org.freedesktop.login1.Seat"
	seat0Path   = "/org/freedesktop/login1/seat/seat0"
)

// Client lists sessions. The zero value asks the system bus and falls back
// to /var/run/utmp.
type Client struct {
	// Utmp is the utmp file of the fallback; empty means /var/run/utmp.
	Utmp string
	// Debugf, when set, is told which source answered and why.
	Debugf func(format string, args ...any)
}

func (c *Client) debugf(format string, args ...any) {
	if c.Debugf != nil {
		c.Debugf(format, args...)
	}
}

// ErrAbsent means there is no logind to ask: no system bus, or no one owns
// org.freedesktop.login1 on it.
var ErrAbsent = errors.New("systemd-logind is not running")

// Sessions implements session.Sessions: every session logind knows, or, when
// logind is absent, utmp's logins. Any other failure (a timeout, an error
// from logind) is returned, and NUMBER then denies.
func (c *Client) Sessions(ctx context.Context) ([]session.Session, error) {
	s, err := c.logindSessions(ctx)
	if err == nil {
		c.debugf("sessions: %d from systemd-logind", len(s))
		return s, nil
	}
	if !errors.Is(err, ErrAbsent) {
		return nil, fmt.Errorf("systemd-logind: %w", err)
	}
	path := c.Utmp
	if path == "" {
		path = DefaultUtmp
	}
	s, uerr := readUtmp(path)
	if uerr != nil {
		return nil, fmt.Errorf("%v, and utmp: %w", err, uerr)
	}
	c.debugf("sessions: %d from %s (%v)", len(s), path, err)
	return s, nil
}

// connect and call are sysbus's, with logind's absence named.
func connect(ctx context.Context) (*dbus.Conn, error) {
	conn, err := sysbus.Connect(ctx)
	return conn, absent(err)
}

func call(ctx context.Context, obj dbus.BusObject, method string, out any, args ...any) error {
	return absent(sysbus.Call(ctx, obj, method, out, args...))
}

func absent(err error) error {
	if errors.Is(err, sysbus.ErrAbsent) {
		return fmt.Errorf("%w (%v)", ErrAbsent, err)
	}
	return err
}

func (c *Client) logindSessions(ctx context.Context) ([]session.Session, error) {
	conn, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var list []struct {
		ID   string
		UID  uint32
		User string
		Seat string
		Path dbus.ObjectPath
	}
	if err := call(ctx, conn.Object(busName, managerPath), managerIf+".ListSessions", &list); err != nil {
		return nil, fmt.Errorf("ListSessions: %w", err)
	}
	sessions := make([]session.Session, 0, len(list))
	for _, l := range list {
		s, err := sessionProperties(ctx, conn, l.Path)
		if err != nil {
			var de dbus.Error
			if errors.As(err, &de) && strings.HasSuffix(de.Name, ".UnknownObject") {
				continue // it ended since ListSessions
			}
			return nil, fmt.Errorf("session %s: %w", l.ID, err)
		}
		if s.User == "" {
			s.User = l.User
		}
		s.UID = l.UID
		sessions = append(sessions, s)
	}
	return sessions, nil
}

// sessionProperties reads what session.Session carries.
func sessionProperties(ctx context.Context, conn *dbus.Conn, path dbus.ObjectPath) (session.Session, error) {
	var props map[string]dbus.Variant
	err := call(ctx, conn.Object(busName, path), "org.freedesktop.DBus.Properties.GetAll", &props, sessionIf)
	if err != nil {
		return session.Session{}, err
	}
	str := func(name string) string {
		s, _ := props[name].Value().(string)
		return s
	}
	return session.Session{
		User:    str("Name"),
		Service: str("Service"),
		RHost:   str("RemoteHost"),
		Type:    str("Type"),
		Class:   str("Class"),
		State:   str("State"),
	}, nil
}

// Desktop is the owner of the local graphical session.
type Desktop struct {
	User    string
	UID     uint32
	Session string // logind's session id
	Path    string // its object path, which GetSessionByPID names too
	Type    string // x11 or wayland
	// Absent says, when there is nobody to ask, why: for the log line of
	// the ASK_FALLBACK decision.
	Absent string
}

// DesktopOwner returns the owner of seat0's active session when it is a
// local graphical user session: class "user" (a greeter or lock screen is
// nobody to ask), type x11 or wayland, not remote, active, and not locked
// (GNOME and KDE set LockedHint: a question there would be a window
// nobody sees, and the login would wait out ASK_TIMEOUT). ok is false,
// with Absent saying why, when there is no such session.
func (c *Client) DesktopOwner(ctx context.Context) (d Desktop, ok bool, err error) {
	conn, err := connect(ctx)
	if err != nil {
		return Desktop{}, false, err
	}
	defer conn.Close()
	var active dbus.Variant
	err = call(ctx, conn.Object(busName, seat0Path), "org.freedesktop.DBus.Properties.Get", &active, seatIf, "ActiveSession")
	if err != nil {
		return Desktop{}, false, fmt.Errorf("seat0's active session: %w", err)
	}
	ref, good := active.Value().([]any) // (so): id, object path
	if !good || len(ref) != 2 {
		return Desktop{}, false, fmt.Errorf("seat0's ActiveSession has type %s", active.Signature())
	}
	id, _ := ref[0].(string)
	path, _ := ref[1].(dbus.ObjectPath)
	if id == "" || path == "" || path == "/" {
		return Desktop{Absent: "seat0 has no active session"}, false, nil
	}
	var props map[string]dbus.Variant
	err = call(ctx, conn.Object(busName, path), "org.freedesktop.DBus.Properties.GetAll", &props, sessionIf)
	if err != nil {
		return Desktop{}, false, fmt.Errorf("session %s: %w", id, err)
	}
	str := func(name string) string { s, _ := props[name].Value().(string); return s }
	boolean := func(name string) bool { b, _ := props[name].Value().(bool); return b }
	user, _ := props["User"].Value().([]any) // (uo): uid, object path
	var uid uint32
	if len(user) == 2 {
		uid, _ = user[0].(uint32)
	}
	d = Desktop{User: str("Name"), UID: uid, Session: id, Path: string(path), Type: str("Type")}
	graphical := d.Type == "x11" || d.Type == "wayland"
	var why string
	switch {
	case str("Class") != "user":
		why = fmt.Sprintf("is a %s, not a user's desktop", str("Class"))
	case !graphical:
		why = fmt.Sprintf("is of type %q, not x11 or wayland", d.Type)
	case boolean("Remote"):
		why = "is remote"
	case !boolean("Active") || str("State") != "active":
		why = fmt.Sprintf("is not active (state %q)", str("State"))
	case boolean("LockedHint"):
		why = "is locked"
	case len(user) != 2:
		why = "has no user"
	}
	if why != "" {
		return Desktop{Absent: fmt.Sprintf("seat0's session %s (%s) %s", id, str("Name"), why)}, false, nil
	}
	return d, true, nil
}
