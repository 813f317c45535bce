package test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestServeTLS runs `pam-accesscontrol serve` with --tls-cert and
// --tls-key (a CA and a server certificate made here) and talks to it with
// clients that check the certificate: curl with --cacert gets its answers
// over HTTP/2 (and HTTP/1.1 when it asks), curl with another CA or with
// the system's CAs is refused, and so is a TLS 1.1 client; without TLS,
// serve refuses to listen anywhere but on loopback addresses, and with a
// key that is not the certificate's it refuses to start.
func TestServeTLS(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s := serveStack(t, "DEFAULT:CLOSE\nWEB OPEN USER alice\n", "alice:secret:web\n", "web")
	pki := t.TempDir()
	ca := writeTestPKI(t, pki)
	// an environment that would lower Go's floor of TLS 1.2 for servers
	// (GODEBUG is read by serve at its start) must not lower serve's
	t.Setenv("GODEBUG", "tls10server=1")
	base := startServeAt(t, s, "https", []string{"--cacert", ca},
		"--tls-cert", filepath.Join(pki, "server.pem"), "--tls-key", filepath.Join(pki, "server.key"))

	// curl prints the protocol it used, the status and its exit code
	curl := func(args ...string) (version string, code string, exit int) {
		t.Helper()
		cmd := exec.Command("curl", append([]string{"-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
			"-H", "Content-Type: application/json", "--data-binary", `{"username":"alice","password":"secret"}`, base + "/auth"}, args...)...)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			exit = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		version, code, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
		return version, code, exit
	}
	if v, code, exit := curl("--cacert", ca); v != "2" || code != "200" || exit != 0 {
		t.Errorf("curl --cacert: HTTP/%s, status %s, exit %d; want HTTP/2, 200", v, code, exit)
	}
	if v, code, exit := curl("--cacert", ca, "--http1.1"); v != "1.1" || code != "200" || exit != 0 {
		t.Errorf("curl --cacert --http1.1: HTTP/%s, status %s, exit %d; want HTTP/1.1, 200", v, code, exit)
	}
	wrongCA := writeTestPKI(t, t.TempDir())
	// 60: the peer's certificate cannot be authenticated with known CAs
	if _, code, exit := curl("--cacert", wrongCA); exit != 60 || code != "000" {
		t.Errorf("curl with another CA: status %s, exit %d; want exit 60", code, exit)
	}
	if _, code, exit := curl(); exit != 60 || code != "000" {
		t.Errorf("curl with the system's CAs: status %s, exit %d; want exit 60", code, exit)
	}

	// Go's client: the certificate verifies, h2 is offered; TLS 1.1 and
	// older are refused, whatever GODEBUG says (pam_hook's users asked for
	// TLS 1.2 at least)
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(ca)
	must(t, err)
	pool.AppendCertsFromPEM(pem)
	addr := strings.TrimPrefix(base, "https://")
	dial := func(cfg *tls.Config) (*tls.Conn, error) {
		cfg.RootCAs, cfg.ServerName = pool, "127.0.0.1"
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
		if err == nil {
			err = conn.Handshake()
		}
		return conn, err
	}
	conn, err := dial(&tls.Config{NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatalf("TLS with the CA: %v", err)
	}
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Errorf("ALPN: %q, want h2", p)
	}
	conn.Close()
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if conn, err := dial(&tls.Config{MinVersion: v, MaxVersion: v}); err == nil {
			conn.Close()
			t.Errorf("%s accepted", tls.VersionName(v))
		}
	}

	// plain HTTP off loopback, and a key that is not the certificate's:
	// refused before anything listens
	port := strconv.Itoa(freePort(t))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:" + port}, "loopback"},
		{[]string{"--listen", "[::]:" + port}, "loopback"},
		{[]string{"--listen", ":" + port}, "loopback"},
		{[]string{"--listen", "127.0.0.1:" + port, "--tls-cert", filepath.Join(pki, "server.pem"),
			"--tls-key", filepath.Join(filepath.Dir(wrongCA), "server.key")}, "--tls-cert"},
	} {
		listen := strings.Join(tt.args, " ")
		cmd := exec.Command(cli, append([]string{"serve", "--pam-confdir", s.svc}, tt.args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		must(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if _, ok := err.(*exec.ExitError); !ok || !strings.Contains(out.String(), tt.want) || strings.Contains(out.String(), "listening") {
				t.Errorf("serve %s: %v\n%s", listen, err, out.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("serve %s: still running\n%s", listen, out.String())
		}
	}
}
