package serve

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Statsd sends counters and timers over UDP (--statsd host:port), under
// beesly's names with its prefix (beesly.pam_auth, beesly.auth_success,
// ...) unless --statsd-prefix says otherwise, so dashboards built for
// beesly keep working. UDP: a collector that is down loses the numbers
// and never slows a login.
type Statsd struct {
	conn   net.Conn
	prefix string
}

// NewStatsd resolves addr once, as beesly did at start.
func NewStatsd(addr, prefix string) (*Statsd, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("--statsd %q: %v", addr, err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("--statsd %q: %v", addr, err)
	}
	if prefix != "" && !strings.HasSuffix(prefix, ".") {
		prefix += "."
	}
	return &Statsd{conn: c, prefix: prefix}, nil
}

// Count adds one to a counter.
func (s *Statsd) Count(name string) { s.send(name + ":1|c") }

// Timing sends a timer in milliseconds.
func (s *Statsd) Timing(name string, d time.Duration) {
	s.send(fmt.Sprintf("%s:%.3f|ms", name, float64(d)/float64(time.Millisecond)))
}

func (s *Statsd) send(line string) {
	s.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	s.conn.Write([]byte(s.prefix + line))
}

// Close closes the socket.
func (s *Statsd) Close() error { return s.conn.Close() }
