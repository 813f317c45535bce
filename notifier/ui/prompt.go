// Package ui is the notifier's windows, built from Fyne widgets but without
// fyne.io/fyne/v2/app, so it builds and tests without a display or cgo
// (fyne.io/fyne/v2/test).
package ui

import (
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
)

// Title names every prompt window, so a person (and xdotool) can find it.
const Title = "pam-accesscontrol: allow this login?"

// Prompt is one request on screen: who, from where, which service, the
// time left, Deny and Allow. The first answer counts; later ones, and the
// window's close button, are ignored or deny.
type Prompt struct {
	Allow, Deny *widget.Button
	// Remember allows the user from the host for the hours the request
	// offers (ASK_REMEMBER); nil when it offers none.
	Remember  *widget.Button
	Countdown *widget.Label
	Content   fyne.CanvasObject

	once   sync.Once
	answer func(dbusapi.Decision)
}

// NewPrompt builds the content for r; answer is called once, with Allow
// or Deny. User-supplied strings are shown as plain text (Labels render no
// markup), cleaned and truncated.
func NewPrompt(r dbusapi.Request, answer func(dbusapi.Decision)) *Prompt {
	r = r.Cleaned()
	p := &Prompt{answer: answer}
	host := r.RHost
	if host == "" {
		host = "this machine"
	}
	who := widget.NewLabelWithStyle(r.User, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	what := widget.NewLabel(fmt.Sprintf("wants to log in from %s\nthrough %s.", host, r.Service))
	what.Alignment = fyne.TextAlignCenter
	p.Countdown = widget.NewLabel("")
	p.Countdown.Alignment = fyne.TextAlignCenter
	p.Deny = widget.NewButtonWithIcon("Deny", theme.CancelIcon(), func() { p.Answer(dbusapi.Deny) })
	p.Allow = widget.NewButtonWithIcon("Allow", theme.ConfirmIcon(), func() { p.Answer(dbusapi.Allow) })
	p.Allow.Importance = widget.HighImportance
	buttons := []fyne.CanvasObject{p.Deny, p.Allow}
	if r.Remember > 0 {
		p.Remember = widget.NewButton(dbusapi.RememberLabel(r.Remember), func() { p.Answer(dbusapi.AllowRemember) })
		buttons = append(buttons, p.Remember)
	}
	p.Content = container.NewBorder(
		container.NewVBox(who, what), container.NewGridWithColumns(len(buttons), buttons...), nil, nil,
		container.NewVBox(layout.NewSpacer(), p.Countdown, layout.NewSpacer()))
	p.SetRemaining(time.Duration(r.Timeout) * time.Second)
	return p
}

// Answer gives the answer, once.
func (p *Prompt) Answer(d dbusapi.Decision) {
	p.once.Do(func() {
		p.Allow.Disable()
		p.Deny.Disable()
		if p.Remember != nil {
			p.Remember.Disable()
		}
		p.answer(d)
	})
}

// SetRemaining shows the time left; nothing answered when it ends means no.
func (p *Prompt) SetRemaining(d time.Duration) {
	p.Countdown.SetText(fmt.Sprintf("Denied in %d s unless you allow it.", int(d.Round(time.Second)/time.Second)))
}

// ClosedText is the notice when an approved login ends.
func ClosedText(e dbusapi.Event) string {
	host := e.RHost
	if host == "" {
		host = "this machine"
	}
	return fmt.Sprintf("%s from %s logged out (%s).", e.User, host, e.Service)
}
