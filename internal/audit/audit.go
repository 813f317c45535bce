// Package audit writes pam-accesscontrol's audit events: one JSON object a
// line, each with the login's correlation id, so a central log pipeline can
// follow one login through its phases (and sshd's fork) and its session.
package audit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Kinds of event.
const (
	Decision     = "decision"
	SessionOpen  = "session_open"
	SessionClose = "session_close"
	AskQuestion  = "ask_question"
	AskAnswer    = "ask_answer"
	// ASK_REMEMBER: the desktop owner allowed a user from a host for
	// hours (grant), a login got in by that (granted), an admin took
	// grants back (revoke)
	AskGrant      = "ask_grant"
	AskGranted    = "ask_granted"
	AskRevoke     = "ask_revoke"
	ConfigRefused = "config_refused"
	// OPA gave no usable answer: OPA_FALLBACK decided, or the last OPEN
	// OPA gave stood (OPA_CACHE); rules/opa names them too.
	OPAFallback = "opa_fallback"
	OPACache    = "opa_cache"
	// A single sign-on token was checked for a TOKEN rule: token_ok (by
	// the provider, the cache, or OIDC_FALLBACK:CACHE: the reason says),
	// token_refused with the reason. Never the token.
	TokenOK      = "token_ok"
	TokenRefused = "token_refused"
	// ServeDecision: pam-accesscontrol serve answered a credential request
	// (POST /auth, /renew, GET /token, POST /authenticate); Phase is the
	// endpoint, Verdict the outcome (ok, refused, error, rate_limited,
	// challenge).
	ServeDecision = "serve_decision"
)

// Event is one audit record.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"event"`
	Login   string    `json:"login"` // the correlation id of the login
	Phase   string    `json:"phase,omitempty"`
	Service string    `json:"service,omitempty"`
	User    string    `json:"user,omitempty"`
	PAMUser string    `json:"pam_user,omitempty"` // PAM_USER as given, when NSS names the account (User) otherwise
	RHost   string    `json:"rhost,omitempty"`
	Auth    string    `json:"auth,omitempty"`
	Verdict string    `json:"verdict,omitempty"`
	Rule    string    `json:"rule,omitempty"` // file:line, DEFAULT or error
	Reason  string    `json:"reason,omitempty"`
	Host    string    `json:"host,omitempty"` // this machine
	PID     int       `json:"pid,omitempty"`  // the PAM application's process
}

// NewLoginID returns a fresh correlation id.
func NewLoginID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// AppendFile adds events to a JSON-lines file (mode 0640), one write each,
// so concurrent helpers never interleave a line. Missing directories are
// made (0750). The file is root's log in a directory others may share:
// trust.AppendLog refuses a link, a hard link, a FIFO or someone else's
// file planted there.
func AppendFile(path string, events ...Event) error {
	host, _ := os.Hostname()
	lines := make([][]byte, 0, len(events))
	for _, e := range events {
		if e.Host == "" {
			e.Host = host
		}
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		lines = append(lines, append(line, '\n'))
	}
	return trust.AppendLog(path, 0o640, true, lines...)
}
