package localpeer

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// procAddr prints an address and port as the kernel does in
// /proc/net/tcp: 32-bit words of the address in network order, each
// printed as this host reads it.
func procAddr(ap netip.AddrPort, v6 bool) string {
	a := ap.Addr()
	var raw []byte
	if v6 {
		b := a.As16()
		raw = b[:]
	} else {
		b := a.Unmap().As4()
		raw = b[:]
	}
	var s strings.Builder
	for i := 0; i < len(raw); i += 4 {
		fmt.Fprintf(&s, "%08X", binary.NativeEndian.Uint32(raw[i:]))
	}
	return fmt.Sprintf("%s:%04X", s.String(), ap.Port())
}

// sock is one line to put in a fake table.
type sock struct {
	local, remote string
	state         uint8
	uid           uint32
	inode         uint64
}

// writeTable writes a fake /proc/net/NAME under proc, in the kernel's
// layout.
func writeTable(t *testing.T, proc, name string, socks ...sock) {
	t.Helper()
	v6 := strings.HasSuffix(name, "6")
	var b strings.Builder
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i, s := range socks {
		fmt.Fprintf(&b, "%4d: %s %s %02X 00000000:00000000 00:00000000 00000000 %5d        0 %d 1 0000000000000000 100 0 0 10 0\n",
			i, procAddr(netip.MustParseAddrPort(s.local), v6), procAddr(netip.MustParseAddrPort(s.remote), v6), s.state, s.uid, s.inode)
	}
	if err := os.MkdirAll(filepath.Join(proc, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(proc, "net", "."+name)
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(proc, "net", name)); err != nil {
		t.Fatal(err)
	}
}

// TestParseEntry: lines as a little-endian kernel writes them, and lines
// that are not socket lines.
func TestParseEntry(t *testing.T) {
	for _, tt := range []struct {
		line string
		v6   bool
		want string // "local remote state uid inode", or "error: …"
	}{
		{"   0: 0100007F:1FF5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23 1 000000001a5c6515 100 0 0 10 0",
			false, "127.0.0.1:8181 0.0.0.0:0 10 0 23"},
		{"   1: 0100007F:E3B7 0100007F:BD40 01 00000000:00000000 00:00000000 00000000 65534        0 0 1 0000000000000000 20 4 0 10 -1",
			false, "127.0.0.1:58295 127.0.0.1:48448 1 65534 0"},
		{"   2: 00000000000000000000000001000000:1FF5 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 4242 1 0000000000000000 100 0 0 10 0",
			true, "[::1]:8181 [::]:0 10 107 4242"},
		{"   3: 0000000000000000FFFF00000100007F:1FF5 0000000000000000FFFF00000100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 20 4 0 10 -1",
			true, "[::ffff:127.0.0.1]:8181 [::ffff:127.0.0.1]:40960 1 0 99"},
		{"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", false, "error: not a socket line"},
		{"   0: 0100007F:1FF5 00000000:0000 0A", false, "error: not a socket line"},
		{"   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23", false, "error: local address"},
		{"   0: 0100007F:1FF5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23", true, "error: local address"},
		{"   0: 0100007G:1FF5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23", false, "error: local address"},
		{"   0: 0100007F:1FF5 00000000:0000 0A 00000000:00000000 00:00000000 00000000    -1        0 23", false, "error: uid"},
		{"   0: 0100007F:1FF5 00000000:0000 XY 00000000:00000000 00:00000000 00000000     0        0 23", false, "error: state"},
		{"   0: 0100007F:1FF5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 x", false, "error: inode"},
	} {
		e, err := parseEntry(tt.line, tt.v6)
		if want, isErr := strings.CutPrefix(tt.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q: %v, want an error saying %q", tt.line, err, want)
			}
			continue
		}
		if !littleEndian() {
			continue // the hex above is a little-endian kernel's
		}
		got := fmt.Sprintf("%s %s %d %d %d", e.local, e.remote, e.state, e.uid, e.inode)
		if err != nil || got != tt.want {
			t.Errorf("%q:\n got %s, %v\nwant %s", tt.line, got, err, tt.want)
		}
	}
}

func littleEndian() bool {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	return b[0] == 1
}

// TestProcAddrRoundTrip: the fake tables the other tests write read back
// as written, on this host's byte order.
func TestProcAddrRoundTrip(t *testing.T) {
	for _, s := range []string{"127.0.0.1:8181", "[::1]:25", "[::ffff:127.0.0.2]:514", "[fe80::1:2:3:4]:65535"} {
		ap := netip.MustParseAddrPort(s)
		v6 := !ap.Addr().Is4()
		got, err := parseAddrPort(procAddr(ap, v6), v6)
		if err != nil || got != ap {
			t.Errorf("%s: read back %s, %v", s, got, err)
		}
	}
}

// TestScanTableBounds: a table with an endless line is an error, not a
// read of everything; a cancelled context stops a long table.
func TestScanTableBounds(t *testing.T) {
	proc := t.TempDir()
	os.MkdirAll(filepath.Join(proc, "net"), 0o755)
	os.WriteFile(filepath.Join(proc, "net", "tcp"), []byte("header\n"+strings.Repeat("x", 10*maxLine)+"\n"), 0o644)
	err := scanTable(context.Background(), proc, "tcp", 80, func(entry) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("an endless line: %v", err)
	}
	many := make([]sock, 3000)
	for i := range many {
		many[i] = sock{"127.0.0.1:80", fmt.Sprintf("127.0.0.1:%d", 10000+i), stateEstablished, 0, 1}
	}
	writeTable(t, proc, "tcp", many...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	err = scanTable(ctx, proc, "tcp", 80, func(entry) bool { n++; return false })
	if err == nil || n >= 3000 {
		t.Errorf("a cancelled scan read %d lines: %v", n, err)
	}
}

// TestLocalPort: the port filter reads the second field's last four hex
// digits, and leaves lines of another shape to parseEntry.
func TestLocalPort(t *testing.T) {
	for _, tt := range []struct {
		line string
		port uint16
		ok   bool
	}{
		{"   0: 0100007F:1FF5 00000000:0000 0A 00000000:00000000", 8181, true},
		{"12345: 00000000000000000000000001000000:01bb 00000000000000000000000000000000:0000 0A", 443, true},
		{"0: 0100007F:1FF5", 8181, true},
		{"  sl  local_address rem_address", 0, false},
		{"0: 0100007F:1FG5 x", 0, false},
		{"0: 0100007F-1FF5 x", 0, false},
		{"", 0, false},
		{"0:", 0, false},
	} {
		if p, ok := localPort([]byte(tt.line)); p != tt.port || ok != tt.ok {
			t.Errorf("%q: %d %v, want %d %v", tt.line, p, ok, tt.port, tt.ok)
		}
	}
}
