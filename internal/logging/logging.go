// Package logging writes what pam-accesscontrol decides: to syslog
// (facility AUTHPRIV, where sshd and login write) and to the original's
// monthly file. It never writes to stdout or stderr, which may be a user's
// terminal; when syslog cannot be reached, messages are dropped.
package logging

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Tag is the program name syslog shows.
const Tag = "pam-accesscontrol"

// DefaultDir holds the monthly log files.
const DefaultDir = "/var/log"

// Logger sends lines to syslog. The zero value drops everything.
type Logger struct {
	w     syslogWriter
	debug bool
	// journal takes Decision lines; nil for systemd's (journal.go)
	journal journalSender
}

// Open makes the Logger, which connects to the local syslog daemon
// (/dev/log) at its first line. It does not fail: a machine without syslog
// loses the lines, never the login. Decisions
// still go to the journal where journald listens without a syslog
// daemon behind /dev/log (CI's containers; a journald-only host whose
// /dev/log is briefly gone).
func Open() *Logger {
	return openWith(func() (syslogWriter, error) { return newLocal(Tag, syslogPaths), nil }, systemdJournal{})
}

// syslogWriter is the local syslog daemon (local.go).
type syslogWriter interface {
	WriteWithPriority(p priority, b []byte) (int, error)
	Close() error
}

func openWith(dial func() (syslogWriter, error), j journalSender) *Logger {
	w, err := dial()
	if err != nil {
		return &Logger{journal: j}
	}
	return &Logger{w: w, journal: j}
}

// Fork returns a Logger for one PAM call: it shares the syslog connection
// (the writer serialises them) and starts with Debug lines off, so one
// call's DEBUG setting does not leak into another's in the daemon.
func (l *Logger) Fork() *Logger { return &Logger{w: l.w, journal: l.journal} }

// SetDebug turns Debug lines on or off (the DEBUG setting, the debug
// module option).
func (l *Logger) SetDebug(on bool) { l.debug = on }

// Debugging reports whether Debug lines are written.
func (l *Logger) Debugging() bool { return l.debug }

// Info, Error and Debug write one line each. Arguments are formatted with
// fmt; user-supplied strings must be passed through Quote.
func (l *Logger) Info(format string, args ...any) { l.write(logInfo, format, args) }

func (l *Logger) Error(format string, args ...any) { l.write(logErr, format, args) }

func (l *Logger) Debug(format string, args ...any) {
	if l.debug {
		l.write(logDebug, format, args)
	}
}

func (l *Logger) write(p priority, format string, args []any) {
	if l == nil || l.w == nil {
		return
	}
	msg := OneLine(fmt.Sprintf(format, args...))
	l.w.WriteWithPriority(logAuthpriv|p, []byte(msg))
}

// Close flushes and disconnects.
func (l *Logger) Close() {
	if l != nil && l.w != nil {
		l.w.Close()
	}
}

// Quote shows a user-supplied string (user name, remote host) with every
// control character escaped, so it cannot forge or split log lines.
func Quote(s string) string { return fmt.Sprintf("%q", s) }

// OneLine escapes line breaks and other control characters that a message
// might still carry.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// MonthlyEntry is one line of the original's /var/log/pam-accesscontrol-YYYY-MM.log:
// date, service, rule kind, user@host, outcome.
type MonthlyEntry struct {
	Time    time.Time
	Service string
	Kind    string // OPEN, CLOSE, ASK, NUMBER…
	User    string
	RHost   string // empty: local
	Outcome string // "access granted", "access denied"…
}

// AppendMonthly adds the entry to dir/pam-accesscontrol-YYYY-MM.log, in the
// original's fixed-width columns, and creates the file (mode 0640) when
// the month begins. dir may be shared (Ubuntu's /var/log is root:syslog
// 0775): trust.AppendLog refuses a link, a hard link, a FIFO or someone
// else's file planted under next month's name.
func AppendMonthly(dir string, e MonthlyEntry) error {
	host := e.RHost
	if host == "" {
		host = "localhost"
	}
	name := filepath.Join(dir, "pam-accesscontrol-"+e.Time.Format("2006-01")+".log")
	line := fmt.Sprintf("%-23s%-10s%-10s%-50s%-15s\n", e.Time.Format("2006-01-02 15:04:05"),
		OneLine(e.Service), e.Kind, OneLine(e.User+"@"+host), e.Outcome)
	return trust.AppendLog(name, 0o640, false, []byte(line))
}
