package outbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func put(t *testing.T, dir string, it Item) {
	t.Helper()
	if err := Put(dir, it); err != nil {
		t.Fatal(err)
	}
}

func TestDeliver(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	old := time.Now().Add(-MaxAge - time.Minute)
	put(t, dir, Item{Kind: Syslog, Dest: "udp://a", Body: []byte("1")})
	put(t, dir, Item{Kind: Mail, Dest: "down:25", Body: []byte("2")})
	put(t, dir, Item{Kind: Syslog, Dest: "udp://a", Body: []byte("3")})
	put(t, dir, Item{Kind: Mail, Dest: "down:25", Body: []byte("4")})
	put(t, dir, Item{Kind: Webhook, Dest: "http://x", Body: []byte("stale"), Created: old})
	if err := os.WriteFile(filepath.Join(dir, "9-broken.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	var sent []string
	tries := map[string]int{}
	send := func(it Item) error {
		tries[it.Dest]++
		if it.Dest == "down:25" {
			return errors.New("connection refused")
		}
		sent = append(sent, string(it.Body))
		return nil
	}
	rep, err := Deliver(dir, send, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// in order; a failed receiver is tried once and keeps both its items
	if rep.Sent != 2 || len(sent) != 2 || sent[0] != "1" || sent[1] != "3" {
		t.Errorf("sent %q (%d)", sent, rep.Sent)
	}
	if tries["down:25"] != 1 || rep.Failed["mail down:25"] == nil || len(rep.Failed) != 1 {
		t.Errorf("tries %v, failed %v", tries, rep.Failed)
	}
	if len(rep.Dropped) != 2 { // the stale one and the broken one
		t.Errorf("dropped %q", rep.Dropped)
	}
	if n := Len(dir); n != 2 {
		t.Errorf("%d items wait, want the 2 mails", n)
	}
	// once the relay is back, the kept items go, in order
	sent = nil
	rep, _ = Deliver(dir, func(it Item) error { sent = append(sent, string(it.Body)); return nil }, time.Now().Add(time.Minute))
	if rep.Sent != 2 || sent[0] != "2" || sent[1] != "4" || Len(dir) != 0 {
		t.Errorf("second run sent %q", sent)
	}
}

// An item put while a deliverer works is sent by that deliverer, and a
// second deliverer stays out.
func TestDeliverLooksAgain(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, Item{Kind: Syslog, Dest: "d", Body: []byte("first")})
	var sent []string
	var once sync.Once
	send := func(it Item) error {
		once.Do(func() {
			put(t, dir, Item{Kind: Syslog, Dest: "d", Body: []byte("meanwhile")})
			if _, err := Deliver(dir, func(Item) error { return nil }, time.Now().Add(time.Second)); err != ErrBusy {
				t.Errorf("a second deliverer: %v, want ErrBusy", err)
			}
		})
		sent = append(sent, string(it.Body))
		return nil
	}
	if _, err := Deliver(dir, send, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 || sent[1] != "meanwhile" {
		t.Errorf("sent %q", sent)
	}
}

func TestDeliverDeadline(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		put(t, dir, Item{Kind: Syslog, Dest: "d"})
	}
	rep, _ := Deliver(dir, func(Item) error { return nil }, time.Now().Add(-time.Second))
	if rep.Sent != 0 || Len(dir) != 3 {
		t.Errorf("past its deadline the deliverer sent %d", rep.Sent)
	}
}

func TestPutFull(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i <= MaxItems; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d-x.json", i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := Put(dir, Item{Kind: Mail}); err == nil {
		t.Fatal("a full outbox took one more")
	}
}

// TestUnsafeOutbox: an outbox that others could write to (or its
// directory) is refused, for putting and for delivering: planted items
// would be sent as ours.
func TestUnsafeOutbox(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ownership checks need root")
	}
	spool := t.TempDir()
	os.Chmod(spool, 0o755)
	dir := filepath.Join(spool, "outbox")
	if err := Put(dir, Item{Kind: Syslog, Dest: "udp://127.0.0.1:9", Body: []byte("x")}); err != nil {
		t.Fatalf("a safe outbox: %v", err)
	}
	for _, tt := range []struct {
		name  string
		path  string
		mode  os.FileMode
		reset os.FileMode
	}{{"outbox writable by others", dir, 0o777, 0o700}, {"its directory writable by group", spool, 0o775, 0o755},
		{"a directory above writable by others", filepath.Dir(spool), 0o777, 0o700}} {
		os.Chmod(tt.path, tt.mode)
		if err := Put(dir, Item{Kind: Syslog, Body: []byte("x")}); err == nil {
			t.Errorf("%s: Put took it", tt.name)
		}
		if _, err := Deliver(dir, func(Item) error { return nil }, time.Now().Add(time.Second)); err == nil {
			t.Errorf("%s: Deliver read it", tt.name)
		}
		os.Chmod(tt.path, tt.reset)
	}
	link := filepath.Join(spool, "link")
	os.Symlink(dir, link)
	if err := Put(link, Item{Kind: Syslog, Body: []byte("x")}); err == nil {
		t.Error("an outbox that is a symbolic link: Put took it")
	}
}

// TestDeliverOnlyRemoves: a delivery run changes the outbox only by
// removing what it sent or dropped. systemd's path unit starts a deliverer
// at each change (PathChanged: created, written and closed, moved in,
// attributes): a run that wrote anything there would start the next one,
// for ever.
func TestDeliverOnlyRemoves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	put(t, dir, Item{Kind: Syslog, Dest: "udp://up", Body: []byte("1")})
	put(t, dir, Item{Kind: Mail, Dest: "down:25", Body: []byte("2")})
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	// what systemd watches for PathChanged=, but IN_DELETE
	const changed = syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE |
		syscall.IN_CREATE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO
	if _, err := syscall.InotifyAddWatch(fd, dir, changed|syscall.IN_DELETE); err != nil {
		t.Fatal(err)
	}
	events := func() (changes, deletes int) {
		buf := make([]byte, 64*1024)
		n, _ := syscall.Read(fd, buf)
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ev.Mask&changed != 0 {
				changes++
			}
			if ev.Mask&syscall.IN_DELETE != 0 {
				deletes++
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
		return
	}
	send := func(it Item) error {
		if it.Dest == "down:25" {
			return errors.New("connection refused")
		}
		return nil
	}
	for run := 1; run <= 2; run++ { // the first makes the lock file
		if _, err := Deliver(dir, send, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		changes, deletes := events()
		if run == 2 && (changes != 0 || deletes != 0) {
			t.Errorf("a run with nothing sent: %d changes, %d removals; want none", changes, deletes)
		}
		if run == 1 && deletes != 1 {
			t.Errorf("the first run: %d removals, want 1 (what it sent)", deletes)
		}
	}
}
