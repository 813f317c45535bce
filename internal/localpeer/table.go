package localpeer

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Socket states as /proc/net/tcp prints them (include/net/tcp_states.h).
// UDP uses stateEstablished for a connected socket and stateClose for one
// that is only bound.
const (
	stateEstablished = 0x01
	stateSynRecv     = 0x03
	stateTimeWait    = 0x06
	stateClose       = 0x07
	stateListen      = 0x0A
	stateNewSynRecv  = 0x0C
)

// maxLine bounds one line of a table: the kernel writes about 150 bytes
// (tcp6 a little more); anything much longer is not that table. It is
// also the size of the reads: a busy server's tables are megabytes, and
// small reads would cost a system call every few lines.
const maxLine = 64 << 10

// entry is one socket of /proc/net/{tcp,tcp6,udp,udp6}.
type entry struct {
	local, remote netip.AddrPort
	state         uint8
	uid           uint32
	// inode is the socket's inode, 0 when no file holds it: a TCP
	// connection not accept()ed yet, or one its owner closed. Its uid is
	// then not an owner's on every kernel (older ones print 0). Once
	// accepted, uid is who accepted it, not who listened.
	inode uint64
}

// scanTable calls fn with every socket of the table file name ("tcp",
// "udp6"…) under proc/net whose local port is port, until fn returns
// true. The file is read a line at a time (memory is bounded whatever the
// number of sockets), other ports' lines are skipped unparsed (a busy
// server has many), and ctx is checked as it goes (so is time). A missing
// tcp6 or udp6 (IPv6 disabled) is an empty table; a missing tcp or udp is
// an error: /proc is not there.
func scanTable(ctx context.Context, proc, name string, port uint16, fn func(entry) bool) error {
	path := filepath.Join(proc, "net", name)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && strings.HasSuffix(name, "6") {
			return nil
		}
		return fmt.Errorf("the kernel's socket table: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, maxLine), maxLine)
	v6 := strings.HasSuffix(name, "6")
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			continue // the header
		}
		if n%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("reading %s: %w", path, ctx.Err())
		}
		if p, ok := localPort(sc.Bytes()); ok && p != port {
			continue
		}
		e, err := parseEntry(sc.Text(), v6)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		if fn(e) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// localPort reads the local port off a line without parsing the rest:
// the four hex digits after the second field's colon. Not ok when the
// line is not in that shape (parseEntry then says what is wrong).
func localPort(line []byte) (uint16, bool) {
	i := 0
	for field := 0; field < 2; field++ {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		for i < len(line) && line[i] != ' ' {
			i++
		}
	}
	// line[:i] ends with the local address, "…:PPPP"
	if i < 5 || line[i-5] != ':' {
		return 0, false
	}
	var p uint16
	for _, c := range line[i-4 : i] {
		switch {
		case '0' <= c && c <= '9':
			p = p<<4 | uint16(c-'0')
		case 'A' <= c && c <= 'F':
			p = p<<4 | uint16(c-'A'+10)
		case 'a' <= c && c <= 'f':
			p = p<<4 | uint16(c-'a'+10)
		default:
			return 0, false
		}
	}
	return p, true
}

// parseEntry reads one line of a table:
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode …
//	0: 0100007F:1FF5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23 …
func parseEntry(line string, v6 bool) (entry, error) {
	f := strings.Fields(line)
	if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
		return entry{}, fmt.Errorf("not a socket line: %q", clip(line))
	}
	var e entry
	var err error
	if e.local, err = parseAddrPort(f[1], v6); err != nil {
		return entry{}, fmt.Errorf("local address %q: %w", f[1], err)
	}
	if e.remote, err = parseAddrPort(f[2], v6); err != nil {
		return entry{}, fmt.Errorf("remote address %q: %w", f[2], err)
	}
	st, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil {
		return entry{}, fmt.Errorf("state %q: %w", f[3], err)
	}
	uid, err := strconv.ParseUint(f[7], 10, 32)
	if err != nil {
		return entry{}, fmt.Errorf("uid %q: %w", f[7], err)
	}
	inode, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return entry{}, fmt.Errorf("inode %q: %w", f[9], err)
	}
	e.state, e.uid, e.inode = uint8(st), uint32(uid), inode
	return e, nil
}

// parseAddrPort reads "0100007F:1FF5": the address as the kernel keeps it
// (network order), printed as 32-bit words in the host's order, and the
// port as a number.
func parseAddrPort(s string, v6 bool) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	want := 8
	if v6 {
		want = 32
	}
	if !ok || len(a) != want || len(p) != 4 {
		return netip.AddrPort{}, errors.New("not ADDRESS:PORT in hex")
	}
	raw, err := hex.DecodeString(a)
	if err != nil {
		return netip.AddrPort{}, err
	}
	for i := 0; i < len(raw); i += 4 {
		// the word as printed is the word in memory read in host order:
		// write it back in host order to get the bytes in memory
		binary.NativeEndian.PutUint32(raw[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
