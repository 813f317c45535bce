// Package notice is what one of the original's mails says: a session
// opened or closed, or a one-time PIN. It is apart from internal/mail,
// which sends it over SMTP, so that the helper that puts a notice in the
// outbox links no mail transport (pammod/helper/lean.go).
package notice

import "time"

// Kinds of notice.
const (
	NewSession   = "new_session"
	CloseSession = "close_session"
	PIN          = "pin"
)

// Notice is what one mail says.
type Notice struct {
	Kind    string    `json:"kind"`
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	User    string    `json:"user"`
	RHost   string    `json:"rhost,omitempty"`
	// Secret is the PIN, or the PIN encrypted for the user (an armored
	// OpenPGP message). PIN notices are never spooled.
	Secret string `json:"-"`
}
