package test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestServeSocketActivation runs the built `pam-accesscontrol serve`
// under systemd-socket-activate, which holds the socket and passes it as
// systemd does for pam-accesscontrol-serve.socket (LISTEN_FDS): a login
// goes through the passed socket, not --listen's address, and a passed
// socket on every address without TLS is refused (serve exits, no
// password crosses it).
func TestServeSocketActivation(t *testing.T) {
	for _, tool := range []string{"curl", "systemd-socket-activate"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool+" (systemd)")
		}
	}
	s := serveStack(t, "DEFAULT:CLOSE\nWEB OPEN USER alice\n", "alice:secret:web\nbob:secret:web\n", "web")

	// --listen names a port nobody listens on: answers come through
	// systemd's socket or not at all
	unused := freePort(t)
	activate := func(t *testing.T, addr string) (*exec.Cmd, *lockedBuffer) {
		args := []string{"-l", addr}
		for _, e := range testenv.NSSWrapperEnv(t, "../examples/demo/passwd", "../examples/demo/group") {
			args = append(args, "-E", e)
		}
		args = append(args, cli, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(unused), "--pam-confdir", s.svc, "--pam-timeout", "20s")
		cmd := exec.Command("systemd-socket-activate", args...)
		log := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		must(t, cmd.Start())
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
			if t.Failed() {
				t.Logf("systemd-socket-activate and serve:\n%s", log.String())
			}
		})
		// systemd-socket-activate says so once the socket listens
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(log.String(), "Listening on") {
			if time.Now().After(deadline) {
				t.Fatalf("systemd-socket-activate did not listen:\n%s", log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		return cmd, log
	}

	t.Run("loopback", func(t *testing.T) {
		port := freePort(t)
		_, log := activate(t, "127.0.0.1:"+strconv.Itoa(port))
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		// the first connection starts serve; it answers on the socket
		// systemd-socket-activate made before serve ran
		code, raw, _ := curlDo(t, "POST", base+"/auth", `{"username":"alice","password":"secret"}`, "--max-time", "30")
		if code != 200 || !strings.Contains(string(raw), `"auth":true`) {
			t.Fatalf("alice through the passed socket: %d %s", code, raw)
		}
		if code, raw, _ := curlDo(t, "POST", base+"/auth", `{"username":"bob","password":"secret"}`, "--max-time", "30"); code != 401 {
			t.Errorf("bob (the rules refuse him) through the passed socket: %d %s", code, raw)
		}
		if code, _, _ := curlDo(t, "GET", "http://127.0.0.1:"+strconv.Itoa(unused)+"/service/health", ""); code != 0 {
			t.Errorf("serve listened on --listen's address too (%d)", code)
		}
		if !strings.Contains(log.String(), "serve: listening on 127.0.0.1:"+strconv.Itoa(port)) {
			t.Errorf("serve's log does not name the passed socket:\n%s", log.String())
		}
	})

	t.Run("every address without TLS", func(t *testing.T) {
		port := freePort(t)
		cmd, log := activate(t, "0.0.0.0:"+strconv.Itoa(port))
		code, raw, _ := curlDo(t, "POST", "http://127.0.0.1:"+strconv.Itoa(port)+"/auth", `{"username":"alice","password":"secret"}`, "--max-time", "30")
		if code != 0 {
			t.Errorf("a passed socket on 0.0.0.0 without TLS answered: %d %s", code, raw)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("serve exited 0 on a passed socket on 0.0.0.0 without TLS")
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("serve did not exit on a passed socket on 0.0.0.0 without TLS:\n%s", log.String())
		}
		if !strings.Contains(log.String(), "listens on 0.0.0.0:"+strconv.Itoa(port)+" without --tls-cert") {
			t.Errorf("serve's refusal does not say why:\n%s", log.String())
		}
	})
}
