package opa

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer/localpeertest"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestClientAnswers: what a server answers becomes a result, or an error
// that says what was wrong; each within the timeout.
func TestClientAnswers(t *testing.T) {
	hang := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/data/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", 400)
			return
		}
		fmt.Fprint(w, `{"result":{"allow":true},"decision_id":"x"}`)
	})
	mux.HandleFunc("/v1/data/undefined", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })
	mux.HandleFunc("/v1/data/err500", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprint(w, `{"code":"internal_error","message":"boom"}`)
	})
	mux.HandleFunc("/v1/data/html", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>proxy error</html>") })
	mux.HandleFunc("/v1/data/huge", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"result":"`+strings.Repeat("a", MaxAnswer)+`"}`)
	})
	mux.HandleFunc("/v1/data/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/v1/data/slowbody", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		fmt.Fprint(w, `{"result":`)
		w.(http.Flusher).Flush()
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/v1/data/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/v1/data/ok", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(hang) // before the server waits for its handlers
	c, err := NewClient(rules.OPASettings{URL: srv.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, want string // want: the result, or "error: <part of the message>"
	}{
		{"ok", `{"allow":true}`},
		{"undefined", "error: no value at that data path"},
		{"err500", "error: HTTP 500 (internal_error: boom)"},
		{"html", "error: not a JSON object"},
		{"huge", "error: more than 1024 KiB"},
		{"hang", "error: no answer from " + srv.URL + " within 1s"},
		{"slowbody", "error: no whole answer"},
		{"redirect", "error: redirect, which is not followed"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			start := time.Now()
			res, err := c.Query(context.Background(), tt.path, map[string]any{"x": 1})
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v with a timeout of 1s", took)
			}
			wantErr, isErr := strings.CutPrefix(tt.want, "error: ")
			switch {
			case isErr && (err == nil || !strings.Contains(err.Error(), wantErr)):
				t.Errorf("got %s, %v; want an error saying %q", res, err, wantErr)
			case !isErr && (err != nil || string(res) != tt.want):
				t.Errorf("got %s, %v; want %s", res, err, tt.want)
			}
		})
	}
	// nobody listening
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c2, _ := NewClient(rules.OPASettings{URL: "http://" + addr, Timeout: time.Second})
	if _, err := c2.Query(context.Background(), "ok", nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("nobody listening: %v", err)
	}
}

// TestUnixSocket: OPA on a unix socket is asked when root owns the
// socket, and refused when anyone else does.
func TestUnixSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own and chown the socket")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "opa.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"result":true}`)
	})}
	go srv.Serve(l)
	defer srv.Close()
	c, err := NewClient(rules.OPASettings{URL: "unix:" + sock, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Query(context.Background(), "a/b", nil); err != nil || string(res) != "true" {
		t.Fatalf("root's socket: %s %v", res, err)
	}
	if err := os.Chown(sock, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(context.Background(), "a/b", nil); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("nobody's socket: %v", err)
	}
	os.Chown(sock, 0, 0)
	// a link to it from a directory others may write is still root's
	// socket, but a socket in a directory others may write is not
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	l2, err := net.Listen("unix", filepath.Join(open, "opa.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	c3, _ := NewClient(rules.OPASettings{URL: "unix:" + filepath.Join(open, "opa.sock"), Timeout: time.Second})
	if _, err := c3.Query(context.Background(), "a/b", nil); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("a socket in a world-writable directory: %v", err)
	}
	var ue interface{ Unwrap() error }
	_ = errors.As(err, &ue)
	// root's sticky directory (like /tmp) is no excuse for the directories
	// above it: whoever may write open could rename it away and put a
	// link to another socket in its place
	sticky := filepath.Join(open, "tmp")
	os.Mkdir(sticky, 0o777)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	l3, err := net.Listen("unix", filepath.Join(sticky, "opa.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	c4, _ := NewClient(rules.OPASettings{URL: "unix:" + filepath.Join(sticky, "opa.sock"), Timeout: time.Second})
	if _, err := c4.Query(context.Background(), "a/b", nil); err == nil || !strings.Contains(err.Error(), open+" is writable by group or others") {
		t.Fatalf("a socket in a sticky directory in a world-writable one: %v", err)
	}
}

func TestNewClientRefuses(t *testing.T) {
	for _, s := range []rules.OPASettings{
		{URL: "ftp://x"}, {URL: ""}, {URL: "https://x:1", CA: "/nonexistent/ca.pem"},
	} {
		if _, err := NewClient(s); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

// TestHTTPS: an https OPA is trusted through OPA_CA, and not without it
// (the system's CAs do not know a test CA); an OPA_CA others may write
// vouches for nothing.
func TestHTTPS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("OPA_CA must be root's file: run as root")
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"result":{"allow":true}}`)
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(ca, pemCert(cert.Raw), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(rules.OPASettings{URL: srv.URL, CA: ca, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Query(context.Background(), "a", nil); err != nil || string(res) != `{"allow":true}` {
		t.Fatalf("with OPA_CA: %s %v", res, err)
	}
	c2, _ := NewClient(rules.OPASettings{URL: srv.URL, Timeout: time.Second})
	if _, err := c2.Query(context.Background(), "a", nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without OPA_CA: %v", err)
	}
	if err := os.Chmod(ca, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(rules.OPASettings{URL: srv.URL, CA: ca, Timeout: time.Second}); err == nil ||
		!strings.Contains(err.Error(), "OPA_CA") || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("an OPA_CA others may write: %v", err)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestLocalPortOwner: an OPA on this host's loopback is asked only when
// root holds the port. The attacker: uid 65534 listening on 127.0.0.1
// while the real OPA is down, answering allow; over http, over https with
// OPA_CA (it has its own certificate, but TLS is not what is checked: the
// port is), and through localhost. Root's same server is asked.
func TestLocalPortOwner(t *testing.T) {
	allow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"result":{"allow":true}}`)
	})
	for _, tt := range []struct {
		name string
		uid  int
		tls  bool
		want string // "" is asked, else part of the error
	}{
		{"root's", 0, false, ""},
		{"root's, https", 0, true, ""},
		{"nobody's", 65534, false, "tcp 127.0.0.1:PORT on this host is held by uid 65534"},
		{"nobody's, https with OPA_CA", 65534, true, "held by uid 65534"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(allow)
			srv.Listener.Close()
			srv.Listener = localpeertest.Listen(t, tt.uid, "tcp", "127.0.0.1:0")
			settings := rules.OPASettings{Timeout: time.Second}
			if tt.tls {
				srv.StartTLS()
				settings.CA = filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(settings.CA, pemCert(srv.Certificate().Raw), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				srv.Start()
			}
			defer srv.Close()
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			urls := []string{srv.URL}
			if !tt.tls {
				urls = append(urls, "http://localhost:"+port)
			}
			for _, u := range urls {
				settings.URL = u
				c, err := NewClient(settings)
				if err != nil {
					t.Fatal(err)
				}
				res, err := c.Query(context.Background(), "a", nil)
				want := strings.ReplaceAll(tt.want, "PORT", port)
				switch {
				case want == "" && (err != nil || string(res) != `{"allow":true}`):
					t.Errorf("%s: %s %v", u, res, err)
				case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
					t.Errorf("%s: %s %v, want an error saying %q", u, res, err, want)
				}
			}
		})
	}
}
