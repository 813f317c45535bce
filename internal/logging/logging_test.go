package logging

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"two\nlines", `two\x0alines`},
		{"tab\there\x1b[31m", `tab\x09here\x1b[31m`},
	}
	for _, tt := range tests {
		if got := OneLine(tt.in); got != tt.want {
			t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Quote("evil\nuser"); got != `"evil\nuser"` {
		t.Errorf("Quote = %s", got)
	}
}

func TestAppendMonthly(t *testing.T) {
	dir := t.TempDir()
	when := time.Date(2026, 11, 22, 13, 5, 0, 0, time.Local)
	for _, e := range []MonthlyEntry{
		{Time: when, Service: "sshd", Kind: "OPEN", User: "alice", RHost: "10.0.0.5", Outcome: "access granted"},
		{Time: when, Service: "login", Kind: "CLOSE", User: "bob\nfake", Outcome: "access denied"},
	} {
		if err := AppendMonthly(dir, e); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "pam-accesscontrol-2026-11.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), data)
	}
	want0 := "2026-11-22 13:05:00    sshd      OPEN      alice@10.0.0.5"
	if !strings.HasPrefix(lines[0], want0) || !strings.Contains(lines[0], "access granted") {
		t.Errorf("line 1 = %q", lines[0])
	}
	if !strings.Contains(lines[1], `bob\x0afake@localhost`) {
		t.Errorf("line 2 = %q: the user must be escaped and the host localhost", lines[1])
	}
	fi, _ := os.Stat(filepath.Join(dir, "pam-accesscontrol-2026-11.log"))
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %o, want 640", fi.Mode().Perm())
	}
}

// TestSyslog: lines reach a syslog socket as AUTHPRIV with the tag, one
// datagram each, control characters escaped.
func TestSyslog(t *testing.T) {
	pc, w := fakeSyslog(t)
	l := &Logger{w: w}
	l.Info("decision %s for %s", "CLOSE", Quote("a\nb"))
	l.Debug("hidden")
	l.SetDebug(true)
	l.Debug("shown")
	l.Close()
	got := readSyslog(t, pc, 2)
	// AUTHPRIV is facility 10: <86> is info, <87> debug
	if !strings.HasPrefix(got[0], "<86>") || !strings.Contains(got[0], Tag+"[") ||
		!strings.HasSuffix(strings.TrimSpace(got[0]), `decision CLOSE for "a\nb"`) {
		t.Errorf("line 1 = %q", got[0])
	}
	if !strings.HasPrefix(got[1], "<87>") || !strings.Contains(got[1], "shown") {
		t.Errorf("line 2 = %q, want the debug line", got[1])
	}
}

// fakeSyslog listens on a unixgram socket of the test's own, as syslogd
// does on /dev/log, and returns it with a writer connected to it.
func fakeSyslog(t *testing.T) (net.PacketConn, *localSyslog) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "log")
	pc, err := net.ListenPacket("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc, newLocal(Tag, []string{sock})
}

// readSyslog returns the next n datagrams, failing after two seconds.
func readSyslog(t *testing.T, pc net.PacketConn, n int) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 4096)
	pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	for len(got) < n {
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, string(buf[:k]))
	}
	return got
}

// noMoreSyslog fails if a datagram arrives within a short wait.
func noMoreSyslog(t *testing.T, pc net.PacketConn) {
	t.Helper()
	buf := make([]byte, 4096)
	pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := pc.ReadFrom(buf); err == nil {
		t.Errorf("unexpected syslog line %q", buf[:n])
	}
}
