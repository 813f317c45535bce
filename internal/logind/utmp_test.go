package logind

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func utmpEntry(typ int16, pid int32, user, line, host string) utmpRecord {
	r := utmpRecord{Type: typ, PID: pid}
	copy(r.User[:], user)
	copy(r.Line[:], line)
	copy(r.Host[:], host)
	return r
}

func writeUtmp(t *testing.T, path string, records ...utmpRecord) {
	t.Helper()
	var buf bytes.Buffer
	for _, r := range records {
		binary.Write(&buf, binary.LittleEndian, r)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUtmpLayout(t *testing.T) {
	if n := binary.Size(utmpRecord{}); n != 384 {
		t.Fatalf("utmp record is %d bytes, glibc's is 384", n)
	}
}

func TestReadUtmp(t *testing.T) {
	me := int32(os.Getpid())
	var buf bytes.Buffer
	for _, r := range []utmpRecord{
		utmpEntry(2, 0, "reboot", "~", ""), // BOOT_TIME
		utmpEntry(utmpUserProcess, me, "alice", "pts/0", "10.0.0.5"),
		utmpEntry(utmpUserProcess, me, "bob", "tty1", ""),
		utmpEntry(8, me, "carol", "pts/1", ""),                       // DEAD_PROCESS
		utmpEntry(utmpUserProcess, 0x7ffffff0, "ghost", "pts/2", ""), // its process is gone
	} {
		binary.Write(&buf, binary.LittleEndian, r)
	}
	path := filepath.Join(t.TempDir(), "utmp")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readUtmp(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []rules.Session{
		{User: "alice", RHost: "10.0.0.5", Type: "tty", Class: "user", State: "active"},
		{User: "bob", Type: "tty", Class: "user", State: "active"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}

	if err := os.WriteFile(path, buf.Bytes()[:500], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readUtmp(path); err == nil {
		t.Error("a cut-off utmp file must be an error, not a shorter list")
	}
}
