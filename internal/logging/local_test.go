package logging

import (
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
	w, err := dialLocal(Tag, []string{filepath.Join(dir, "absent"), sock})
	if err != nil {
		t.Fatal(err)
	}
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
	w, err := dialLocal(Tag, []string{sock})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
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

// TestLocalSyslogNone: no daemon is an error, which Open turns into a
// Logger that drops syslog lines.
func TestLocalSyslogNone(t *testing.T) {
	if _, err := dialLocal(Tag, []string{filepath.Join(t.TempDir(), "log")}); err == nil {
		t.Fatal("connected to nothing")
	}
}
