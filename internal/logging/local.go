package logging

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// localSyslog writes to the syslog daemon of this machine as srslog.New's
// Writer does: the same sockets tried in the same order, the same line,
// and on a failed write one new connection and one retry. It exists because
// srslog links its TLS transport (crypto/tls, crypto/x509) into every
// program that imports it, and the helper the module starts for each login
// pays for each linked package at every start (pammod/helper/lean.go);
// sending to a remote syslog server is internal/remotelog's, with srslog.
type localSyslog struct {
	tag   string
	paths []string // tried as unixgram, then as unix (stream) sockets

	mu   sync.Mutex // Logger.Fork shares one connection between goroutines
	conn net.Conn
	// connected is set once a connection was made; absent says the first
	// try found no daemon, after which lines are dropped, as srslog.New's
	// failure at Open dropped them
	connected, absent bool
}

// priority is a syslog facility ORed with a severity (RFC 3164).
type priority int

// The facility and the severities the Logger writes with.
const (
	logAuthpriv priority = 10 << 3
	logErr      priority = 3
	logInfo     priority = 6
	logDebug    priority = 7
)

// errNoSyslog: no syslog daemon answered.
var errNoSyslog = errors.New("no local syslog daemon answers")

// syslogPaths are where a syslog daemon listens, in srslog's order.
var syslogPaths = []string{"/dev/log", "/var/run/syslog", "/var/run/log"}

// newLocal returns a writer to the first socket of paths that answers. It
// connects at its first line, not before: a call that sends syslog no line
// (the decision goes to the journal) spares the helper the connection, and
// a host without a syslog daemon the tries of every path.
func newLocal(tag string, paths []string) *localSyslog {
	return &localSyslog{tag: tag, paths: paths}
}

func (l *localSyslog) connect() error {
	if l.conn != nil {
		l.conn.Close()
		l.conn = nil
	}
	for _, network := range []string{"unixgram", "unix"} {
		for _, path := range l.paths {
			c, err := net.DialUnix(network, nil, &net.UnixAddr{Name: path, Net: network})
			if err == nil {
				l.conn, l.connected = c, true
				return nil
			}
		}
	}
	return fmt.Errorf("%w on %s", errNoSyslog, strings.Join(l.paths, ", "))
}

// WriteWithPriority sends one line: "<PRI>Mmm dd hh:mm:ss TAG[PID]: msg",
// with a newline at its end, as srslog.UnixFormatter writes it.
func (l *localSyslog) WriteWithPriority(p priority, b []byte) (int, error) {
	l.mu.Lock()
	absent := l.absent
	l.mu.Unlock()
	if absent {
		return 0, errNoSyslog // before any formatting: a host without syslog
	}
	msg := string(b)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	line := []byte(fmt.Sprintf("<%d>%s %s[%d]: %s", p, time.Now().Format(time.Stamp), l.tag, os.Getpid(), msg))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.absent {
		return 0, errNoSyslog
	}
	if l.conn != nil {
		if _, err := l.conn.Write(line); err == nil {
			return len(msg), nil
		}
	}
	if err := l.connect(); err != nil {
		l.absent = !l.connected
		return 0, err
	}
	if _, err := l.conn.Write(line); err != nil {
		return 0, err
	}
	return len(msg), nil
}

// Close disconnects.
func (l *localSyslog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close()
	l.conn = nil
	return err
}
