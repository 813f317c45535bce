package logging

import (
	"fmt"
	"os"
	"strconv"

	"github.com/coreos/go-systemd/v22/journal"
)

// Fields are a decision's journal fields, PAMAC_VERDICT and the like:
// `journalctl PAMAC_VERDICT=CLOSE` lists the refusals.
type Fields map[string]string

// journalSender is systemd's journal (go-systemd's journal package); a
// stand-in in unit tests.
type journalSender interface {
	Send(message string, priority journal.Priority, vars map[string]string) error
}

type systemdJournal struct{}

func (systemdJournal) Send(message string, priority journal.Priority, vars map[string]string) error {
	return journal.Send(message, priority, vars)
}

// Decision logs a decision's line with its fields: to the journal where
// journald listens (which forwards it to syslog as it does every message,
// so /var/log/auth.log keeps it), to syslog where it does not. One send: a
// machine without journald costs one failed sendmsg.
func (l *Logger) Decision(fields Fields, format string, args ...any) {
	if l == nil || l.w == nil && l.journal == nil {
		return // the zero Logger drops everything
	}
	msg := OneLine(fmt.Sprintf(format, args...))
	j := l.journal
	if j == nil {
		j = systemdJournal{}
	}
	vars := map[string]string{
		"SYSLOG_IDENTIFIER": Tag,
		"SYSLOG_FACILITY":   strconv.Itoa(int(logAuthpriv >> 3)),
		"SYSLOG_PID":        strconv.Itoa(os.Getpid()),
	}
	for k, v := range fields {
		vars[k] = v
	}
	if err := j.Send(msg, journal.PriInfo, vars); err == nil {
		return
	}
	l.write(logInfo, "%s", []any{msg})
}
