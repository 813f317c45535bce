package logging

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/RackSec/srslog"
)

// TestLocalSyslogLine: the local writer sends what srslog's local Writer
// sent (srslog.UnixFormatter's line, a newline at its end), one datagram
// a line, to the first socket that answers.
func TestLocalSyslogLine(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "log")
	pc, err := net.ListenPacket("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	w := newLocal(Tag, []string{filepath.Join(dir, "absent"), sock})
	defer w.Close()
	for _, msg := range []string{"decision OPEN", "ends in a newline\n"} {
		p := logAuthpriv | logInfo
		if _, err := w.WriteWithPriority(p, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		got := readSyslog(t, pc, 1)[0]
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		want := srslog.UnixFormatter(srslog.Priority(p), "", Tag, msg)
		// the timestamps (time.Stamp) may be a second apart
		n := len("<86>") + len(time.Stamp)
		if len(got) != len(want) || got[:4] != want[:4] || got[n:] != want[n:] {
			t.Errorf("line = %q, want %q (timestamp aside)", got, want)
		}
		if _, err := time.Parse(time.Stamp, got[4:n]); err != nil {
			t.Errorf("timestamp of %q: %v", got, err)
		}
	}
}

// TestLocalSyslogReconnects: a syslog daemon that restarted (its socket
// made anew) gets the next line: a failed write connects again once.
func TestLocalSyslogReconnects(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	pc, err := net.ListenPacket("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	w := newLocal(Tag, []string{sock})
	defer w.Close()
	if _, err := w.WriteWithPriority(logAuthpriv|logInfo, []byte("before")); err != nil {
		t.Fatal(err)
	}
	readSyslog(t, pc, 1)
	pc.Close()
	os.Remove(sock)
	if pc, err = net.ListenPacket("unixgram", sock); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := w.WriteWithPriority(logAuthpriv|logErr, []byte("after the restart")); err != nil {
		t.Fatal(err)
	}
	if got := readSyslog(t, pc, 1)[0]; !strings.HasPrefix(got, "<83>") || !strings.HasSuffix(got, "]: after the restart\n") {
		t.Errorf("line = %q", got)
	}
}

// TestLocalSyslogNone: with no daemon at the first line, lines are
// dropped (an error), and no later line tries again: a host without syslog
// pays for the tries once (as srslog.New's failure at Open did).
func TestLocalSyslogNone(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	w := newLocal(Tag, []string{sock})
	if _, err := w.WriteWithPriority(logAuthpriv|logInfo, []byte("lost")); !errors.Is(err, errNoSyslog) {
		t.Fatalf("no daemon: %v", err)
	}
	pc, err := net.ListenPacket("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := w.WriteWithPriority(logAuthpriv|logInfo, []byte("still lost")); !errors.Is(err, errNoSyslog) {
		t.Errorf("a daemon that came later: %v", err)
	}
	noMoreSyslog(t, pc)
}
