package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func TestNeedsFull(t *testing.T) {
	plugins := t.TempDir()
	if err := os.WriteFile(filepath.Join(plugins, "officehours.star"), []byte("def decide(ctx):\n    return \"OPEN\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ rules, want string }{
		{"DEFAULT:CLOSE\nSSHD OPEN USER root\nALL ASK GROUP staff\nSSHD NUMBER USER bob:2\n", ""},
		{"", ""},
		{"SSHD OPEN USER root\nSSHD officehours GROUP staff\n", "r.conf:2: a PLUGIN rule"},
		{"OPA_URL:http://127.0.0.1:8181\nSSHD OPA GROUP ALL\n", "r.conf:2: a OPA rule"},
		{"SSHD PIN USER alice\n", "r.conf:1: a PIN rule"},
		{"SSHD PINGPG USER alice\n", "r.conf:1: a PINGPG rule"},
		{"OIDC_ISSUER:https://sso.example.org\nSSHD TOKEN GROUP contractors\n", "r.conf:2: a TOKEN rule"},
	} {
		cfg := rules.Parse("r.conf", []byte(tt.rules), rules.ParseOptions{PluginDir: plugins})
		if got := needsFull(cfg); got != tt.want {
			t.Errorf("%q: %q, want %q (problems %v)", tt.rules, got, tt.want, cfg.Problems)
		}
	}
}

// TestPeekCall: the call is read and left on the socket for whoever runs
// it; a call cut short is an error (the full helper then reads it).
func TestPeekCall(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	frame, err := protocol.Call{Version: protocol.Version, Fn: protocol.FnAcctMgmt, Handle: "h", Args: []string{"conf=/r.conf"}}.Message().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Write(fds[0], frame[:len(frame)-1]); err != nil {
		t.Fatal(err)
	}
	if _, err := peekCall(fds[1]); err == nil || !strings.Contains(err.Error(), "reading the call") {
		t.Errorf("a call cut short: %v", err)
	}
	if _, err := syscall.Write(fds[0], frame[len(frame)-1:]); err != nil {
		t.Fatal(err)
	}
	got, err := peekCall(fds[1])
	if err != nil || len(got.Args) != 1 || got.Args[0] != "conf=/r.conf" {
		t.Fatalf("peekCall = %+v, %v", got, err)
	}
	buf := make([]byte, len(frame)+1)
	if n, _ := syscall.Read(fds[1], buf); n != len(frame) {
		t.Errorf("after the peek %d bytes are left on the socket, want the whole call's %d", n, len(frame))
	}
}

// TestPeekCallOversize: a frame longer than any call is an error at once,
// without waiting for its body.
func TestPeekCallOversize(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	if _, err := syscall.Write(fds[0], []byte{0xff, 0xff, 0xff, 0xff, 'C'}); err != nil {
		t.Fatal(err)
	}
	if _, err := peekCall(fds[1]); err == nil || !strings.Contains(err.Error(), "frame length") {
		t.Errorf("an oversize frame: %v", err)
	}
}
