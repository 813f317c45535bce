// Package test holds the integration tests: the built programs run as an
// admin or a host (pamtester, sshd) would run them.
package test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The programs under test, built once by the Makefile into a temporary
// build directory.
var (
	buildDir string
	cli      string // pam-accesscontrol
	shim     string // pam_accesscontrol.so
	helper   string // pam-accesscontrol-helper
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pamac-build")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	make := exec.Command("make", "--no-print-directory", "-C", "..", "build", "BUILD="+dir)
	make.Stdout, make.Stderr = os.Stderr, os.Stderr
	if err := make.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building with make:", err)
		return 1
	}
	buildDir = dir
	cli = filepath.Join(dir, "pam-accesscontrol")
	shim = filepath.Join(dir, "pam_accesscontrol.so")
	helper = filepath.Join(dir, "pam-accesscontrol-helper")
	stop, err := startSyslog()
	if err != nil {
		fmt.Fprintln(os.Stderr, "syslog sink:", err)
		return 1
	}
	defer stop()
	return m.Run()
}

// syslogSink collects what the shim (pam_syslog) and the helper (srslog)
// send to /dev/log during the tests.
type syslogSink struct {
	mu    sync.Mutex
	lines []string
	// wrap runs a command so that its /dev/log is the sink: empty when the
	// sink listens on /dev/log itself, else a private mount namespace with
	// the sink bound over the system's /dev/log.
	wrap []string
}

var sink = &syslogSink{}

func startSyslog() (stop func(), err error) {
	path := "/dev/log"
	if _, err := os.Lstat(path); err == nil {
		// a syslog daemon owns /dev/log: keep ours elsewhere and bind it
		// over /dev/log in each test command's own mount namespace
		dir, err := os.MkdirTemp("", "pamac-syslog")
		if err != nil {
			return nil, err
		}
		path = filepath.Join(dir, "log")
		sink.wrap = []string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$0" /dev/log && exec "$@"`, path}
		defer func() {
			if err != nil {
				os.RemoveAll(dir)
			}
		}()
	}
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s (tests run as root): %w", path, err)
	}
	os.Chmod(path, 0o666)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			sink.mu.Lock()
			sink.lines = append(sink.lines, string(buf[:n]))
			sink.mu.Unlock()
		}
	}()
	return func() {
		pc.Close()
		os.Remove(path)
		if path != "/dev/log" {
			os.RemoveAll(filepath.Dir(path))
		}
	}, nil
}

// mark returns the position from which since reads.
func (s *syslogSink) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lines)
}

// since returns the lines logged after mark, waiting briefly for lines in
// flight (datagrams arrive after the process that sent them exited).
func (s *syslogSink) since(mark int) []string {
	time.Sleep(50 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines[mark:]...)
}

// grep returns the lines that contain every one of want.
func grep(lines []string, want ...string) []string {
	var out []string
	for _, l := range lines {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// command builds a command whose syslog goes to the sink.
func command(name string, args ...string) *exec.Cmd {
	all := append(append(append([]string(nil), sink.wrap...), name), args...)
	return exec.Command(all[0], all[1:]...)
}
