// Package syslogsink receives what programs send to syslog through
// /dev/log, for tests and the demo, on machines with or without a syslog
// daemon: without one it listens on /dev/log itself; with one it listens
// elsewhere and runs each command in a private mount namespace where its
// socket is bound over /dev/log. Either way needs root.
package syslogsink

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Sink collects syslog datagrams.
type Sink struct {
	mu    sync.Mutex
	lines []string
	path  string
	pc    net.PacketConn
	wrap  []string // command prefix that points /dev/log at the sink
}

// Start listens for syslog datagrams.
func Start() (*Sink, error) {
	s := &Sink{path: "/dev/log"}
	if _, err := os.Lstat(s.path); err == nil {
		dir, err := os.MkdirTemp("", "syslogsink")
		if err != nil {
			return nil, err
		}
		s.path = filepath.Join(dir, "log")
		s.wrap = []string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$0" /dev/log && exec "$@"`, s.path}
	}
	pc, err := net.ListenPacket("unixgram", s.path)
	if err != nil {
		s.removePath()
		return nil, fmt.Errorf("listening on %s: %w", s.path, err)
	}
	s.pc = pc
	os.Chmod(s.path, 0o666) // callers of any uid log too
	go s.receive()
	return s, nil
}

func (s *Sink) receive() {
	buf := make([]byte, 65536)
	for {
		n, _, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.lines = append(s.lines, string(buf[:n]))
		s.mu.Unlock()
	}
}

// Close stops listening and removes the socket.
func (s *Sink) Close() {
	s.pc.Close()
	s.removePath()
}

func (s *Sink) removePath() {
	os.Remove(s.path)
	if s.path != "/dev/log" {
		os.RemoveAll(filepath.Dir(s.path))
	}
}

// Mark returns the position from which Since reads.
func (s *Sink) Mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lines)
}

// Since returns the lines received after mark. It waits briefly first:
// datagrams can arrive after the process that sent them exited.
func (s *Sink) Since(mark int) []string {
	time.Sleep(50 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines[mark:]...)
}

// Command is exec.Command for a program whose syslog goes to the sink.
func (s *Sink) Command(name string, args ...string) *exec.Cmd {
	all := append(append(append([]string(nil), s.wrap...), name), args...)
	return exec.Command(all[0], all[1:]...)
}

// Wrap returns the prefix Command puts before a program, for callers that
// build their own exec.Cmd (with a context, say).
func (s *Sink) Wrap() []string { return append([]string(nil), s.wrap...) }
