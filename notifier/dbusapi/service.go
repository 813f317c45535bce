package dbusapi

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// Prompter shows requests to the desktop owner. Ask blocks until the
// owner answers or ctx ends (then it returns Timeout); several Asks may run
// at once and each must be shown.
type Prompter interface {
	Ask(ctx context.Context, r Request) Decision
	Inform(e Event)
}

// maxTimeout bounds the countdown a caller may ask for.
const maxTimeout = 90

// Serve claims uid's name on conn and answers calls with p until conn
// closes. Only root may call (the bus policy says so; Serve checks again).
func Serve(conn *dbus.Conn, uid uint32, p Prompter) error {
	s := &service{conn: conn, p: p}
	if err := conn.Export(s, Path, Interface); err != nil {
		return err
	}
	reply, err := conn.RequestName(BusName(uid), dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("claiming %s: %w", BusName(uid), err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("%s is taken by another process", BusName(uid))
	}
	return nil
}

type service struct {
	conn *dbus.Conn
	p    Prompter
}

var errNotRoot = dbus.NewError("org.freedesktop.DBus.Error.AccessDenied", []any{"only root may ask"})

func (s *service) fromRoot(sender dbus.Sender) bool {
	var uid uint32
	err := s.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixUser", 0, string(sender)).Store(&uid)
	return err == nil && uid == 0
}

// Ask is the D-Bus method; godbus runs each call in its own goroutine.
func (s *service) Ask(sender dbus.Sender, user, rhost, service string, timeout uint32) (string, *dbus.Error) {
	return s.ask(sender, Request{User: user, RHost: rhost, Service: service, Timeout: timeout})
}

// AskRemember is Ask offering to allow the user from the host for hours
// (version 2).
func (s *service) AskRemember(sender dbus.Sender, user, rhost, service string, timeout, hours uint32) (string, *dbus.Error) {
	return s.ask(sender, Request{User: user, RHost: rhost, Service: service, Timeout: timeout, Remember: min(hours, maxRemember)})
}

// maxRemember bounds the hours a caller may offer (ASK_REMEMBER's own).
const maxRemember = 168

func (s *service) ask(sender dbus.Sender, r Request) (string, *dbus.Error) {
	if !s.fromRoot(sender) {
		return "", errNotRoot
	}
	if r.Timeout < 1 || r.Timeout > maxTimeout {
		r.Timeout = maxTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.Timeout)*time.Second)
	defer cancel()
	d := s.p.Ask(ctx, r.Cleaned())
	switch {
	case d == Allow, d == Deny:
	case d == AllowRemember && r.Remember > 0:
	default:
		d = Timeout // whatever else a prompter says, it is no answer
	}
	return string(d), nil
}

func (s *service) Inform(sender dbus.Sender, kind, user, rhost, service string) *dbus.Error {
	if !s.fromRoot(sender) {
		return errNotRoot
	}
	s.p.Inform(Event{Kind: Clean(kind), User: Clean(user), RHost: Clean(rhost), Service: Clean(service)})
	return nil
}

func (s *service) Ping(sender dbus.Sender) (string, *dbus.Error) {
	if !s.fromRoot(sender) {
		return "", errNotRoot
	}
	return Version, nil
}
