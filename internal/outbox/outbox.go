// Package outbox keeps messages for remote receivers (a webhook, a remote
// syslog server, a mail relay) until a separate process has sent them.
//
// A login must never wait for the network: the helper only writes a file
// here, and the detached deliverer (the helper's --deliver mode) sends
// what waits. A receiver that is down keeps its messages for the next run,
// up to a bound on count and age, while the other receivers go on.
package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Kinds of receiver.
const (
	Webhook = "webhook"
	Syslog  = "syslog"
	Mail    = "mail"
)

// MaxItems bounds what waits while receivers are down; beyond it new
// messages are refused (and the helper logs that), old ones are kept.
const MaxItems = 10000

// MaxAge is how long a message may wait; older ones are dropped unsent,
// since a session mail a day late misleads more than it informs.
const MaxAge = 24 * time.Hour

// Item is one message and everything needed to send it, so that the
// deliverer needs no config of its own and a message spooled under one
// config goes where that config said.
type Item struct {
	Kind    string    `json:"kind"`
	Dest    string    `json:"dest"`               // URL, syslog target, mail relay host:port
	Created time.Time `json:"created"`            // when the helper spooled it
	KeyFile string    `json:"key_file,omitempty"` // webhook: the HMAC key's file
	CAFile  string    `json:"ca_file,omitempty"`  // syslog over TLS, mail with STARTTLS: the CA bundle
	// mail: STARTTLS is required
	StartTLS bool `json:"starttls,omitempty"`
	// syslog over TLS: this host's certificate and key, for servers that
	// check their clients
	CertFile    string   `json:"cert_file,omitempty"`
	CertKeyFile string   `json:"cert_key_file,omitempty"`
	Timeout     float64  `json:"timeout,omitempty"` // seconds each attempt may take; 0: the sender's default
	From        string   `json:"from,omitempty"`    // mail envelope sender
	To          []string `json:"to,omitempty"`      // mail recipients
	Body        []byte   `json:"body"`              // JSON event, RFC 5424 line, or RFC 5322 message
}

// Put adds an item to the outbox in dir. The file appears whole (written
// aside, then renamed), so a deliverer never reads half an item.
func Put(dir string, it Item) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := CheckDir(dir); err != nil {
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > MaxItems {
		return fmt.Errorf("outbox %s is full (%d messages): is a receiver down?", dir, len(entries))
	}
	if it.Created.IsZero() {
		it.Created = time.Now()
	}
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	id := make([]byte, 6)
	rand.Read(id)
	name := fmt.Sprintf("%020d-%s.json", it.Created.UnixNano(), hex.EncodeToString(id))
	tmp := filepath.Join(dir, "."+name)
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// CheckDir refuses an outbox that others could write to, or any directory
// above it (trust.StateDir): planted events and mails would be sent as
// ours.
func CheckDir(dir string) error {
	if err := trust.StateDir(dir); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Send delivers one item; an error keeps it for later.
type Send func(Item) error

// Report says what one Deliver did.
type Report struct {
	Sent    int
	Dropped []string         // why each dropped item was dropped
	Failed  map[string]error // receiver (kind and dest) -> the error that stopped it
}

// ErrBusy: another deliverer holds the outbox.
var ErrBusy = errors.New("another deliverer is at work")

// Deliver sends what waits in dir, oldest first, through send. A receiver
// that fails keeps that item and the rest of its items for the next run;
// the other receivers go on. It looks again after a pass that sent
// something, so an item put while it worked is not left behind; it stops
// at deadline. Only one Deliver works on a dir at a time (ErrBusy).
func Deliver(dir string, send Send, deadline time.Time) (Report, error) {
	rep := Report{Failed: map[string]error{}}
	if err := CheckDir(dir); err != nil {
		return rep, err
	}
	// read-only: closing it is no write to the outbox, which systemd's
	// path unit would take for a new item (IN_CLOSE_WRITE) and start
	// another deliverer for
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDONLY|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return rep, ErrBusy
	}
	done := map[string]bool{} // names handled in this run, sent or not
	for {
		names, err := pending(dir)
		if err != nil {
			return rep, err
		}
		progress := false
		for _, n := range names {
			if done[n] {
				continue
			}
			if time.Now().After(deadline) {
				return rep, nil
			}
			done[n] = true
			progress = true
			path := filepath.Join(dir, n)
			it, err := read(path)
			if err != nil {
				os.Remove(path)
				rep.Dropped = append(rep.Dropped, fmt.Sprintf("%s: unreadable: %v", n, err))
				continue
			}
			receiver := it.Kind + " " + it.Dest
			if _, failed := rep.Failed[receiver]; failed {
				continue
			}
			if age := time.Since(it.Created); age > MaxAge {
				os.Remove(path)
				rep.Dropped = append(rep.Dropped, fmt.Sprintf("%s message for %s: unsent for %v", it.Kind, it.Dest, age.Round(time.Minute)))
				continue
			}
			if err := send(it); err != nil {
				rep.Failed[receiver] = err
				continue
			}
			os.Remove(path)
			rep.Sent++
		}
		if !progress {
			return rep, nil
		}
	}
}

// Len is how many items wait in dir.
func Len(dir string) int {
	names, _ := pending(dir)
	return len(names)
}

func pending(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func read(path string) (Item, error) {
	var it Item
	data, err := os.ReadFile(path)
	if err != nil {
		return it, err
	}
	err = json.Unmarshal(data, &it)
	return it, err
}
