// Package session is what a live login session is, as systemd-logind (or
// utmp) tells it: the one type that the session sources (internal/logind)
// and the rules that count sessions (rules) both speak, so that neither
// imports the other.
package session

import "strings"

// Session is one live login session.
type Session struct {
	User    string `json:"user"`
	UID     uint32 `json:"uid,omitempty"`
	Service string `json:"service"`
	RHost   string `json:"rhost,omitempty"`
	Type    string `json:"type,omitempty"`  // x11, wayland, tty, unspecified
	Class   string `json:"class"`           // user, user-early, greeter, lock-screen, background…
	State   string `json:"state,omitempty"` // online, active, closing
}

// Live reports whether the session counts for NUMBER: a user-class session
// (class "user" or "user-…") that is not closing.
func (s Session) Live() bool {
	return strings.HasPrefix(s.Class, "user") && s.State != "closing"
}
