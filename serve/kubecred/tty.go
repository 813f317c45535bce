package kubecred

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Prompter asks the person at the terminal; the answer's bytes are the
// caller's to zero.
type Prompter interface {
	Ask(prompt string, echo bool) ([]byte, error)
	Close() error
}

// promptTimeout bounds each question: a plugin waiting for nobody would
// hold kubectl forever.
const promptTimeout = 5 * time.Minute

// maxAnswer is the longest line read.
const maxAnswer = 4096

// terminal asks on the controlling terminal (/dev/tty), as ssh and sudo
// do: kubectl reads the plugin's stdout, and its stdin may be a pipe.
type terminal struct {
	f *os.File
}

// openTerminal opens the controlling terminal; a process without one
// (cron, CI, an IDE) gets an error that says so.
func openTerminal() (Prompter, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("no terminal to ask for the password on (/dev/tty: %v)", err)
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		f.Close()
		return nil, fmt.Errorf("/dev/tty is not a terminal: %v", err)
	}
	return &terminal{f: f}, nil
}

func (t *terminal) Close() error { return t.f.Close() }

// Ask writes prompt and reads one line. With echo false the terminal
// does not show what is typed, and its settings come back even when
// SIGINT, SIGTERM or SIGHUP arrives meanwhile (a Ctrl-C must not leave
// the shell without echo).
func (t *terminal) Ask(prompt string, echo bool) ([]byte, error) {
	fd := int(t.f.Fd())
	if !echo {
		old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return nil, err
		}
		quiet := *old
		quiet.Lflag &^= unix.ECHO
		quiet.Lflag |= unix.ICANON | unix.ECHONL
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
			return nil, err
		}
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		done := make(chan struct{})
		interrupted := make(chan os.Signal, 1)
		go func() {
			select {
			case s := <-sigs:
				unix.IoctlSetTermios(fd, unix.TCSETS, old)
				interrupted <- s
				if t.f.SetReadDeadline(time.Now()) != nil { // ends the read below
					// a terminal outside Go's poller: die of the signal,
					// the terminal restored
					signal.Stop(sigs)
					syscall.Kill(os.Getpid(), s.(syscall.Signal))
				}
			case <-done:
			}
		}()
		defer func() {
			close(done)
			signal.Stop(sigs)
			unix.IoctlSetTermios(fd, unix.TCSETS, old)
		}()
		line, err := t.read(prompt)
		select {
		case s := <-interrupted:
			clear(line)
			return nil, fmt.Errorf("interrupted (%v)", s)
		default:
		}
		return line, err
	}
	return t.read(prompt)
}

// read writes prompt and reads a line within promptTimeout, without its
// newline.
func (t *terminal) read(prompt string) ([]byte, error) {
	if _, err := t.f.WriteString(prompt); err != nil {
		return nil, err
	}
	// the tty is in Go's poller, so a deadline ends a read nobody answers
	t.f.SetReadDeadline(time.Now().Add(promptTimeout))
	// room for the longest answer at once: growing would leave copies of
	// a password behind in memory nobody zeroes
	line := make([]byte, 0, maxAnswer)
	// a byte at a time from the terminal's own line: no buffer of ours
	// keeps a copy of the password
	var one [1]byte
	for {
		_, err := io.ReadFull(t.f, one[:])
		b := one[0]
		if errors.Is(err, os.ErrDeadlineExceeded) {
			clear(line)
			return nil, fmt.Errorf("nobody answered %q within %v", prompt, promptTimeout)
		}
		if err != nil {
			clear(line)
			return nil, fmt.Errorf("reading the terminal: %v", err)
		}
		if b == '\n' {
			break
		}
		if len(line) >= maxAnswer {
			clear(line)
			return nil, fmt.Errorf("the answer is longer than %d bytes", maxAnswer)
		}
		line = append(line, b)
	}
	one[0] = 0
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
