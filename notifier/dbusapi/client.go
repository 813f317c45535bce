package dbusapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/sysbus"
)

// ErrNoNotifier means no notifier runs for the uid: nobody can answer.
var ErrNoNotifier = errors.New("no notifier runs for the desktop owner")

// ErrWrongOwner means the notifier's name is held by a process of another
// user: a squatter, never to be believed.
var ErrWrongOwner = errors.New("the notifier's name is held by another user")

// ErrOtherSession means the notifier of the desktop owner runs, but not in
// the desktop's session: another session of the same user (xrdp, a nested
// desktop) holds the name, where the question would reach nobody at the
// machine. Nobody to ask.
var ErrOtherSession = errors.New("the desktop owner's notifier runs in another session than the desktop's")

// Owner is whom Ask puts a question to: the desktop owner's uid, and their
// desktop session's logind object path, in which the notifier must run.
type Owner struct {
	UID     uint32
	Session string
}

// ErrUnanswered means the question went out to the desktop owner's
// verified notifier but no answer came back: the notifier died or closed
// its connection, replied with an error or with something that is not an
// answer, or the caller's deadline passed first. Unlike ErrNoNotifier or an
// unreachable bus (nobody to ask, so a fallback may decide), someone may
// now be looking at the question: the login must be refused.
//
// Ask's errors after the question went out match ErrUnanswered and nothing
// else: the cause is only in the text, so that no "absent" or deadline
// error under it can be taken for "nobody to ask".
var ErrUnanswered = errors.New("the question went out to the notifier but no answer came back")

// owner connects and finds the unique name of uid's notifier, checking that
// it runs as uid and, when session is not "", in that logind session.
// Calls then go to that unique name, which is never reused, so the name
// cannot change hands between the check and the call.
func owner(ctx context.Context, uid uint32, session string) (*dbus.Conn, string, error) {
	conn, err := sysbus.Connect(ctx)
	if err != nil {
		return nil, "", err
	}
	var unique string
	if err := sysbus.Call(ctx, conn.BusObject(), "org.freedesktop.DBus.GetNameOwner", &unique, BusName(uid)); err != nil {
		conn.Close()
		if errors.Is(err, sysbus.ErrAbsent) {
			return nil, "", fmt.Errorf("%w (uid %d)", ErrNoNotifier, uid)
		}
		return nil, "", err
	}
	var ownerUID uint32
	if err := sysbus.Call(ctx, conn.BusObject(), "org.freedesktop.DBus.GetConnectionUnixUser", &ownerUID, unique); err != nil {
		conn.Close()
		return nil, "", err
	}
	if ownerUID != uid {
		conn.Close()
		return nil, "", fmt.Errorf("%w: %s is owned by uid %d, not %d", ErrWrongOwner, BusName(uid), ownerUID, uid)
	}
	if session != "" {
		if err := inSession(ctx, conn, unique, session); err != nil {
			conn.Close()
			return nil, "", err
		}
	}
	return conn, unique, nil
}

// inSession checks that the process behind the unique name belongs to
// the logind session at path.
func inSession(ctx context.Context, conn *dbus.Conn, unique, path string) error {
	var pid uint32
	if err := sysbus.Call(ctx, conn.BusObject(), "org.freedesktop.DBus.GetConnectionUnixProcessID", &pid, unique); err != nil {
		return err
	}
	var got dbus.ObjectPath
	login1 := conn.Object("org.freedesktop.login1", "/org/freedesktop/login1")
	if err := sysbus.Call(ctx, login1, "org.freedesktop.login1.Manager.GetSessionByPID", &got, pid); err != nil {
		var de dbus.Error
		if errors.Is(err, sysbus.ErrAbsent) || errors.As(err, &de) && de.Name == "org.freedesktop.login1.NoSessionForPID" {
			return fmt.Errorf("%w: its process %d is in no session", ErrOtherSession, pid)
		}
		return err
	}
	if string(got) != path {
		return fmt.Errorf("%w: its process %d is in %s, the desktop is %s", ErrOtherSession, pid, got, path)
	}
	return nil
}

// Ask asks the notifier of uid to let a login in. It returns when the
// owner answers, the notifier's countdown ends, or ctx does; only Allow
// lets the login in. Errors before the question goes out (no bus,
// ErrNoNotifier, ErrWrongOwner, a failed owner check) do not match
// ErrUnanswered; every error after it does.
//
// The notifier must run in o's desktop session (logind's GetSessionByPID
// of the name's process), else ErrOtherSession: only the owner's active
// local session may answer.
func Ask(ctx context.Context, o Owner, r Request) (Decision, error) {
	if o.Session == "" {
		return "", fmt.Errorf("%w: no desktop session named", ErrOtherSession)
	}
	conn, unique, err := owner(ctx, o.UID, o.Session)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	obj := conn.Object(unique, Path)
	if r.Remember > 0 {
		// a notifier of before ASK_REMEMBER is asked without the offer
		var v string
		if err := sysbus.Call(ctx, obj, Interface+".Ping", &v); err != nil {
			return "", err
		}
		if v == "1" {
			r.Remember = 0
		}
	}
	// From here on the question is out: every failure is ErrUnanswered.
	var answer string
	if r.Remember > 0 {
		err = sysbus.Call(ctx, obj, Interface+".AskRemember", &answer, r.User, r.RHost, r.Service, r.Timeout, r.Remember)
	} else {
		err = sysbus.Call(ctx, obj, Interface+".Ask", &answer, r.User, r.RHost, r.Service, r.Timeout)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnanswered, err)
	}
	switch d := Decision(answer); d {
	case Allow, Deny, Timeout:
		return d, nil
	case AllowRemember:
		if r.Remember > 0 {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: the notifier answered %q", ErrUnanswered, answer)
}

// Inform sends a notice and waits for the notifier to take it (the method
// returns nothing): a caller that left at once would be gone before the
// notifier checked that it was root, and the notice would be dropped.
func Inform(ctx context.Context, uid uint32, e Event) error {
	conn, unique, err := owner(ctx, uid, "") // the owner, in any session of theirs
	if err != nil {
		return err
	}
	defer conn.Close()
	call := conn.Object(unique, Path).CallWithContext(ctx, Interface+".Inform", 0, e.Kind, e.User, e.RHost, e.Service)
	if call.Err != nil {
		return sysbus.Err(ctx, call.Err)
	}
	return nil
}

// Ping returns the notifier's version.
func Ping(ctx context.Context, uid uint32) (string, error) {
	conn, unique, err := owner(ctx, uid, "")
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var v string
	err = sysbus.Call(ctx, conn.Object(unique, Path), Interface+".Ping", &v)
	return v, err
}
