// Package dbusapi is the D-Bus interface between the PAM helper (root) and
// the desktop notifier (the desktop user): the names, the client the helper
// calls with, and the service the notifier runs. It has no GUI code, so the
// helper does not link Fyne.
//
// The notifier owns org.pamaccesscontrol.Notifier.u<UID> on the system bus;
// the bus policy lets any user own names with that prefix and only root
// call them. A name can be squatted by another user, so the client checks
// that the name's owner runs as the uid it asks for: a squatter can only
// cause a denial, never an approval.
package dbusapi

import (
	"fmt"
	"strings"
	"unicode"
)

const (
	// NamePrefix starts every notifier's bus name.
	NamePrefix = "org.pamaccesscontrol.Notifier"
	// Path is the notifier's object.
	Path = "/org/pamaccesscontrol/Notifier"
	// Interface has Ask, AskRemember (version 2), Inform and Ping.
	Interface = "org.pamaccesscontrol.Notifier1"
	// Version is what Ping answers: "2" has AskRemember. A notifier
	// started before an upgrade may answer "1" for as long as its session
	// lasts: it is asked without the offer.
	Version = "2"
)

// BusName is the name the notifier of uid owns (a name element cannot start
// with a digit, hence the u).
func BusName(uid uint32) string { return fmt.Sprintf("%s.u%d", NamePrefix, uid) }

// Decision is the notifier's answer to Ask.
type Decision string

const (
	Allow   Decision = "allow"
	Deny    Decision = "deny"
	Timeout Decision = "timeout"
	// AllowRemember allows this login, and the user's from the same host
	// for the hours the request offered (ASK_REMEMBER).
	AllowRemember Decision = "allow-remember"
)

// Request is one login waiting for the desktop owner.
type Request struct {
	User    string
	RHost   string
	Service string
	Timeout uint32 // seconds
	// Remember, when not 0, offers the owner to allow the user from the
	// host for that many hours (ASK_REMEMBER).
	Remember uint32
}

// Event is a notice for the desktop owner.
type Event struct {
	Kind    string // EventClosed
	User    string
	RHost   string
	Service string
}

// EventClosed: the last approved session of a user from a host ended.
const EventClosed = "closed"

// maxShown bounds each user-supplied string the notifier shows.
const maxShown = 64

// Clean makes a user-supplied string safe to show: control and format
// characters (newlines, terminal escapes, bidirectional overrides) removed,
// and at most maxShown characters, the cut marked.
func Clean(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			continue
		}
		if n == maxShown {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// RememberLabel names the answer that allows the user from the host for
// hours, on the notifier's button and in the desktop's notification.
func RememberLabel(hours uint32) string { return fmt.Sprintf("Allow for %d h", hours) }

// Cleaned returns the request with every string Clean.
func (r Request) Cleaned() Request {
	return Request{User: Clean(r.User), RHost: Clean(r.RHost), Service: Clean(r.Service), Timeout: r.Timeout, Remember: r.Remember}
}
