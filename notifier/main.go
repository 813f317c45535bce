// Command pam-accesscontrol-notifier runs in each graphical session (XDG
// autostart), as the desktop user, and answers the PAM helper's ASK
// requests: it owns org.pamaccesscontrol.Notifier.u<UID> on the system bus
// and shows each request in a window of its own with Allow and Deny and a
// countdown, or, where the desktop's notification server offers actions
// (GNOME Shell, KDE Plasma, dunst, mako), in a notification of the desktop
// with Allow and Deny (desktopnotify). Closing or dismissing it, or
// letting the countdown run out, denies.
// When an approved login ends it shows a desktop notification. It keeps
// running with no window open.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/desktopnotify"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/ui"
)

const appID = "org.pamaccesscontrol.notifier"

func main() {
	a := app.NewWithID(appID)
	a.SetIcon(theme.AccountIcon()) // the tray's and the notifications' icon
	// The last window closing ends a Fyne app: this one is never shown
	// and never closed, so the notifier outlives every prompt.
	keepAlive := a.NewWindow("pam-accesscontrol")
	_ = keepAlive
	if d, ok := a.(desktop.App); ok {
		// optional: desktops without a tray only log that it failed
		d.SetSystemTrayMenu(fyne.NewMenu("pam-accesscontrol",
			fyne.NewMenuItem("Asks you before SSH logins in", nil)))
	}

	conn, err := dbus.ConnectSystemBus()
	if err != nil {
		fail("connecting to the system bus: %v", err)
	}
	p := &prompter{app: a}
	if session, err := dbus.ConnectSessionBus(); err == nil {
		p.notify = &desktopnotify.Asker{Conn: session} // else: windows only
	}
	uid := uint32(os.Getuid())
	if err := dbusapi.Serve(conn, uid, p); err != nil {
		fail("%v (is another notifier running in this session?)", err)
	}
	go func() {
		<-conn.Context().Done() // the bus went away: nobody can ask us any more
		fyne.Do(a.Quit)
	}()
	a.Run()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pam-accesscontrol-notifier: "+format+"\n", args...)
	os.Exit(1)
}

// prompter shows requests; godbus runs each call in its own goroutine, and
// every window is made and changed on Fyne's goroutine (fyne.Do).
type prompter struct {
	app    fyne.App
	notify *desktopnotify.Asker // nil without a session bus
}

// Ask asks in the desktop's notification where its server can show
// buttons, else in a window of the notifier's own.
func (p *prompter) Ask(ctx context.Context, r dbusapi.Request) dbusapi.Decision {
	if p.notify != nil {
		if d, err := p.notify.Ask(ctx, r); err == nil {
			return d
		}
	}
	return p.askInWindow(ctx, r)
}

func (p *prompter) askInWindow(ctx context.Context, r dbusapi.Request) dbusapi.Decision {
	answers := make(chan dbusapi.Decision, 1)
	var w fyne.Window
	var prompt *ui.Prompt
	fyne.DoAndWait(func() {
		prompt = ui.NewPrompt(r, func(d dbusapi.Decision) { answers <- d })
		w = p.app.NewWindow(ui.Title)
		w.SetContent(prompt.Content)
		w.SetCloseIntercept(func() { prompt.Answer(dbusapi.Deny) })
		w.Resize(fyne.NewSize(420, 220))
		w.SetFixedSize(true)
		w.CenterOnScreen()
		w.Show()
		w.RequestFocus()
	})
	defer fyne.Do(w.Close)
	deadline, _ := ctx.Deadline()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case d := <-answers:
			return d
		case <-ctx.Done():
			return dbusapi.Timeout
		case <-tick.C:
			left := time.Until(deadline)
			fyne.Do(func() { prompt.SetRemaining(left) })
		}
	}
}

func (p *prompter) Inform(e dbusapi.Event) {
	if e.Kind != dbusapi.EventClosed {
		return
	}
	p.app.SendNotification(fyne.NewNotification("pam-accesscontrol", ui.ClosedText(e)))
}
