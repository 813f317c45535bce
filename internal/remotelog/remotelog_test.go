package remotelog

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer/localpeertest"
)

// Send frames TCP messages by octet count (RFC 6587) and sends UDP ones
// as one datagram each; a server that is not there is an error in time.
func TestSend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 2)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReader(c)
		for i := 0; i < 2; i++ {
			count, err := r.ReadString(' ')
			if err != nil {
				return
			}
			n, err := strconv.Atoi(strings.TrimSpace(count))
			if err != nil {
				got <- "bad frame " + count
				return
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			got <- string(buf)
		}
	}()
	var s Sender
	defer s.Close()
	for _, line := range []string{"<86>1 one", "<86>1 two"} {
		if err := s.Send("tcp://"+ln.Addr().String(), Options{Timeout: time.Second}, line); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"<86>1 one", "<86>1 two"} {
		select {
		case g := <-got:
			if g != want {
				t.Errorf("received %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nothing received")
		}
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := s.Send("udp://"+pc.LocalAddr().String(), Options{Timeout: time.Second}, "<86>1 dgram"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "<86>1 dgram" {
		t.Errorf("datagram %q, %v", buf[:n], err)
	}

	// nobody listens: refused at once; TLS to a plain server fails in time
	closed := ln.Addr().String()
	ln.Close()
	var s2 Sender
	if err := s2.Send("tcp://"+closed, Options{Timeout: time.Second}, "x"); err == nil {
		t.Error("sent to a closed port")
	}
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	start := time.Now()
	if err := s2.Send("tls://"+silent.Addr().String(), Options{Timeout: 300 * time.Millisecond}, "x"); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("TLS to a server that never answers: %v after %v", err, time.Since(start))
	}
}

// TestSendLocalOwner: a syslog server on this host gets events only when
// root holds its port: uid 65534 listening on TCP (plain or TLS: refused
// before the handshake) or bound to the UDP port while rsyslog is down
// gets nothing, and the error says who holds it; root's get them.
func TestSendLocalOwner(t *testing.T) {
	for _, tt := range []struct {
		uid  int
		want string
	}{{0, ""}, {65534, "held by uid 65534"}} {
		l := localpeertest.Listen(t, tt.uid, "tcp", "127.0.0.1:0")
		got := make(chan string, 10)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 200)
					c.SetReadDeadline(time.Now().Add(3 * time.Second))
					if n, _ := c.Read(buf); n > 0 {
						got <- string(buf[:n])
					}
				}()
			}
		}()
		pc := localpeertest.ListenPacket(t, tt.uid, "udp", "127.0.0.1:0")
		go func() {
			buf := make([]byte, 200)
			for {
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				got <- string(buf[:n])
			}
		}()
		var s Sender
		for _, target := range []string{"tcp://" + l.Addr().String(), "udp://" + pc.LocalAddr().String(), "tls://" + l.Addr().String()} {
			err := s.Send(target, Options{Timeout: time.Second}, "<86>1 secret event")
			switch {
			case tt.want == "" && err != nil && !strings.HasPrefix(target, "tls"):
				t.Errorf("uid %d's %s: %v", tt.uid, target, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("uid %d's %s: %v, want an error saying %q", tt.uid, target, err, tt.want)
			}
		}
		s.Close()
		n := 0
		for wait := time.After(500 * time.Millisecond); ; {
			select {
			case g := <-got:
				if tt.want != "" {
					t.Errorf("uid %d's server received %q", tt.uid, g)
				}
				n++
				continue
			case <-wait:
			}
			break
		}
		if tt.want == "" && n < 3 { // the TLS hello is the third
			t.Errorf("root's servers received %d of 3", n)
		}
	}
}
