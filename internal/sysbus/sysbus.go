// Package sysbus opens private connections to the D-Bus system bus for one
// PAM call: bound to the call's deadline (godbus and dbus-daemon never time
// out a call on their own), closed when the call ends, and telling "there
// is no bus or no such service" apart from "it failed", since the first may
// mean a fallback and the second must deny.
package sysbus

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/godbus/dbus/v5"
)

// ErrAbsent wraps errors that mean the bus, or the name called, is not
// there at all.
var ErrAbsent = errors.New("not on the system bus")

// Connect opens a private system bus connection bound to ctx: when ctx ends,
// the connection closes and every call on it fails.
func Connect(ctx context.Context) (*dbus.Conn, error) {
	conn, err := dbus.SystemBusPrivate(dbus.WithContext(ctx))
	if err != nil {
		// godbus says "system bus not found" when no socket is at the
		// default paths, with no error value to test for
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || err.Error() == "system bus not found" {
			return nil, fmt.Errorf("%w: no system bus: %v", ErrAbsent, err)
		}
		return nil, err
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, Err(ctx, err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, Err(ctx, err)
	}
	return conn, nil
}

// Err explains a failed call: the deadline's error when it passed (a closed
// connection says less), ErrAbsent when nobody owns the name called.
func Err(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer in time: %w", ctx.Err())
	}
	var de dbus.Error
	if errors.As(err, &de) && (de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
		de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
		return fmt.Errorf("%w: %s", ErrAbsent, de.Name)
	}
	return err
}

// Call calls method on obj under ctx and stores the reply in out.
func Call(ctx context.Context, obj dbus.BusObject, method string, out any, args ...any) error {
	if err := obj.CallWithContext(ctx, method, 0, args...).Store(out); err != nil {
		return Err(ctx, err)
	}
	return nil
}
