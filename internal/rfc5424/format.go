// Package rfc5424 writes an audit event as the RFC 5424 syslog line that
// SYSLOG_SERVER receives. It is apart from internal/remotelog, which sends
// the lines, so that the helper that puts the line in the outbox links no
// network transport (pammod/helper/lean.go).
package rfc5424

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
)

// SDID names the structured-data element. 32473 is the private enterprise
// number RFC 5612 sets aside for examples: no number is registered for
// this project yet, and a receiver only needs the name to be stable.
const SDID = "pamac@32473"

// facility AUTHPRIV (10), as the local syslog lines
const authpriv = 10 << 3

// Severities (RFC 5424 table 2).
const (
	sevErr    = 3
	sevNotice = 5
	sevInfo   = 6
)

// maxLine keeps a message inside what every receiver takes over UDP
// (RFC 5426 asks receivers for at least 2048 octets).
const maxLine = 2048

// Format is the RFC 5424 line of an event: a refusal is a notice (serve's
// refused, rate_limited and error decisions too), a refused config an
// error, anything else information.
//
//	<86>1 2026-11-22T16:07:00.123456Z host pam-accesscontrol 4242 decision [pamac@32473 login="…" …] decision OPEN for "alice" …
func Format(e audit.Event) string {
	sev := sevInfo
	switch {
	case e.Kind == audit.ConfigRefused:
		sev = sevErr
	case e.Verdict == "CLOSE" || e.Verdict == "deny" || e.Verdict == "timeout",
		e.Kind == audit.ServeDecision && e.Verdict != "ok" && e.Verdict != "challenge":
		sev = sevNotice
	}
	procID := "-"
	if e.PID > 0 {
		procID = strconv.Itoa(e.PID)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<%d>1 %s %s %s %s %s ", authpriv+sev, e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"),
		headerField(e.Host, 255), logging.Tag, procID, headerField(e.Kind, 32))
	b.WriteString("[" + SDID)
	for _, p := range [][2]string{
		{"login", e.Login}, {"event", e.Kind}, {"phase", e.Phase}, {"service", e.Service}, {"user", e.User}, {"pam_user", e.PAMUser},
		{"rhost", e.RHost}, {"auth", e.Auth}, {"verdict", e.Verdict}, {"rule", e.Rule}, {"reason", e.Reason},
	} {
		if p[1] != "" {
			b.WriteString(" " + p[0] + `="` + paramValue(p[1]) + `"`)
		}
	}
	b.WriteString("] ")
	b.WriteString(message(e))
	line := b.String()
	if len(line) > maxLine {
		line = strings.ToValidUTF8(line[:maxLine-3], "") + "..."
	}
	return line
}

// message is the free-text part, for people reading the log.
func message(e audit.Event) string {
	rhost := e.RHost
	if rhost == "" {
		rhost = "LOCAL"
	}
	s := fmt.Sprintf("%s", e.Kind)
	if e.Verdict != "" {
		s += " " + e.Verdict
	}
	s += " for " + logging.Quote(e.User)
	if e.PAMUser != "" {
		s += " (PAM_USER " + logging.Quote(e.PAMUser) + ")"
	}
	s += fmt.Sprintf(" from %s (service %s", logging.Quote(rhost), logging.Quote(e.Service))
	if e.Auth != "" {
		s += ", auth " + e.Auth
	}
	s += ", login " + e.Login + ")"
	if e.Rule != "" {
		s += " by " + logging.OneLine(e.Rule)
	}
	if e.Reason != "" {
		s += ": " + logging.OneLine(e.Reason)
	}
	return s
}

// paramValue escapes what RFC 5424 section 6.3.3 requires (", \ and ]),
// and control characters, which would split the line.
func paramValue(s string) string {
	s = logging.OneLine(s)
	if !strings.ContainsAny(s, `"\]`) {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)
	return r.Replace(s)
}

// headerField is a header token: printable US-ASCII without spaces, "-"
// when empty.
func headerField(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if r > 32 && r < 127 && b.Len() < max {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}
