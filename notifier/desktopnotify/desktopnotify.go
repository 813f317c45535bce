// Package desktopnotify asks the desktop owner in the desktop's own
// notification (org.freedesktop.Notifications on the session bus), where
// its server offers actions: GNOME Shell, KDE Plasma, dunst, mako. The
// question is a critical notification with Allow and Deny and the time
// left; dismissing it denies, and so does letting the time run out.
// Where the server offers no actions, Ask says so (ErrNoActions) and the
// notifier shows its own window instead.
package desktopnotify

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
)

const (
	busName = "org.freedesktop.Notifications"
	path    = dbus.ObjectPath("/org/freedesktop/Notifications")
	iface   = "org.freedesktop.Notifications"

	actionAllow    = "allow"
	actionDeny     = "deny"
	actionRemember = "allow-remember"

	// Summary is the notification's title.
	Summary = "Allow this login?"
	// refresh is how often the time left is brought up to date.
	refresh = 5 * time.Second
	// callTimeout bounds each call to the server: one that hangs must cost
	// the owner a window, not the whole countdown
	callTimeout = 2 * time.Second
)

// ErrNoActions means there is no notification server on the session bus,
// or it cannot show buttons: the question needs another way.
var ErrNoActions = errors.New("the desktop's notification server offers no actions")

// Asker puts questions through the notification server of conn, a
// session bus connection.
type Asker struct {
	Conn *dbus.Conn
}

// server is the notification server now: its unique name (signals from
// anyone else are not its answers) and whether it renders markup.
type server struct {
	owner  string
	markup bool
}

func (a Asker) server(ctx context.Context) (server, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var owner string
	if err := a.Conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, busName).Store(&owner); err != nil {
		return server{}, fmt.Errorf("%w (%v)", ErrNoActions, err)
	}
	var caps []string
	if err := a.Conn.Object(owner, path).CallWithContext(ctx, iface+".GetCapabilities", 0).Store(&caps); err != nil {
		return server{}, fmt.Errorf("%w (%v)", ErrNoActions, err)
	}
	if !slices.Contains(caps, "actions") {
		return server{}, ErrNoActions
	}
	return server{owner: owner, markup: slices.Contains(caps, "body-markup")}, nil
}

// Ask shows r until it is answered, dismissed or ctx ends (Timeout). An
// error means the question was not shown (ErrNoActions, or the server
// refused it): the caller asks another way. The first answer counts.
func (a Asker) Ask(ctx context.Context, r dbusapi.Request) (dbusapi.Decision, error) {
	srv, err := a.server(ctx)
	if err != nil {
		return "", err
	}
	// the server's signals only: another program of the session must not
	// answer for it
	match := []dbus.MatchOption{dbus.WithMatchSender(srv.owner), dbus.WithMatchObjectPath(path), dbus.WithMatchInterface(iface)}
	if err := a.Conn.AddMatchSignalContext(ctx, match...); err != nil {
		return "", err
	}
	defer a.Conn.RemoveMatchSignal(match...)
	signals := make(chan *dbus.Signal, 16)
	a.Conn.Signal(signals)
	defer a.Conn.RemoveSignal(signals)

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Duration(r.Timeout) * time.Second)
	}
	id, err := a.notify(ctx, srv, 0, r, time.Until(deadline))
	if err != nil {
		return "", err
	}
	defer a.close(id)
	tick := time.NewTicker(refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return dbusapi.Timeout, nil
		case <-tick.C:
			a.notify(ctx, srv, id, r, time.Until(deadline)) // a failed update leaves the old text
		case s := <-signals:
			if d, ok := answer(s, srv.owner, id, r.Remember > 0); ok {
				return d, nil
			}
		}
	}
}

// answer reads a signal of the server about notification id.
func answer(s *dbus.Signal, owner string, id uint32, offered bool) (dbusapi.Decision, bool) {
	if s.Sender != owner || s.Path != path || len(s.Body) < 2 {
		return "", false
	}
	if got, ok := s.Body[0].(uint32); !ok || got != id {
		return "", false
	}
	switch s.Name {
	case iface + ".ActionInvoked":
		switch key, _ := s.Body[1].(string); {
		case key == actionAllow:
			return dbusapi.Allow, true
		case key == actionRemember && offered:
			return dbusapi.AllowRemember, true
		}
		return dbusapi.Deny, true // Deny, or a click on the notification itself
	case iface + ".NotificationClosed":
		return dbusapi.Deny, true // dismissed, or closed by the server
	}
	return "", false
}

// notify shows the question, or brings notification id (not 0) up to date.
func (a Asker) notify(ctx context.Context, srv server, id uint32, r dbusapi.Request, left time.Duration) (uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	hints := map[string]dbus.Variant{
		"urgency":  dbus.MakeVariant(byte(2)), // critical: it stays until answered
		"resident": dbus.MakeVariant(false),
		"category": dbus.MakeVariant("x-pam-accesscontrol.ask"),
	}
	actions := []string{actionDeny, "Deny", actionAllow, "Allow"}
	if r.Remember > 0 {
		actions = append(actions, actionRemember, dbusapi.RememberLabel(r.Remember))
	}
	var got uint32
	err := a.Conn.Object(srv.owner, path).CallWithContext(ctx, iface+".Notify", 0,
		"pam-accesscontrol", id, "dialog-password", Summary, Body(r, left, srv.markup),
		actions, hints, int32(0)).Store(&got)
	return got, err
}

func (a Asker) close(id uint32) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	a.Conn.Object(busName, path).CallWithContext(ctx, iface+".CloseNotification", 0, id)
}

// Body is the question's text: who, from where, through which service, the
// time left. User-supplied strings are cleaned, and escaped where the
// server renders markup, so that a user name cannot style or link.
func Body(r dbusapi.Request, left time.Duration, markup bool) string {
	r = r.Cleaned()
	host := r.RHost
	if host == "" {
		host = "this machine"
	}
	text := fmt.Sprintf("%s wants to log in from %s through %s.\nDenied in %d s unless you allow it.",
		r.User, host, r.Service, int(max(left, 0).Round(time.Second)/time.Second))
	if markup {
		text = html.EscapeString(text)
	}
	return text
}
