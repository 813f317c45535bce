package protocol

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// wireDriver receives one frame with the shim's own decoder (wire.c's
// wire_recv, on fd 3) and prints what it got: "ok" and the type, then a
// line per field, or "refused" and the reason.
const wireDriver = `#include "shim.h"
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct deadline dl;
	struct msg m;
	const char *why = "";
	deadline_init(&dl, 20);
	if (wire_recv(3, &m, &dl, &why) < 0) {
		printf("refused: %s\n", why);
		return 0;
	}
	printf("ok %c\n", m.type);
	for (unsigned i = 0; i < m.nfields; i++) {
		const struct field *f = &m.f[i];
		if (f->kind == 'i') {
			printf("i %d\n", f->i);
		} else if (f->kind == 'n') {
			printf("n\n");
		} else {
			printf("s %zu ", strlen(f->s));
			for (const char *p = f->s; *p; p++)
				printf("%02x", (unsigned char)*p);
			printf("\n");
		}
	}
	msg_free(&m);
	return 0;
}
`

// rawFrame encodes m as Encode does, without its checks: what a careless
// encoder would send.
func rawFrame(m Message) []byte {
	buf := []byte{0, 0, 0, 0, m.Type}
	for _, v := range m.Fields {
		buf = append(buf, v.Kind)
		switch v.Kind {
		case KindInt:
			buf = binary.BigEndian.AppendUint32(buf, uint32(v.Int))
		case KindStr:
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.Str)))
			buf = append(buf, v.Str...)
		}
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	return buf
}

// cDecoded is what wireDriver prints for a frame it takes.
func cDecoded(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ok %c\n", m.Type)
	for _, v := range m.Fields {
		switch v.Kind {
		case KindInt:
			fmt.Fprintf(&b, "i %d\n", v.Int)
		case KindNull:
			b.WriteString("n\n")
		case KindStr:
			fmt.Fprintf(&b, "s %d %x\n", len(v.Str), v.Str)
		}
	}
	return b.String()
}

// TestAgainstWireC runs the shim's decoder on frames: it takes every frame
// Encode makes, with the same fields, and refuses every message Encode
// refuses for a reason of the wire format.
func TestAgainstWireC(t *testing.T) {
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := testenv.BuildC(t, wireDriver, "-I"+dir, filepath.Join(dir, "wire.c"))
	recv := func(frame []byte) string {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		ours, theirs := os.NewFile(uintptr(fds[0]), "helper"), os.NewFile(uintptr(fds[1]), "shim")
		defer ours.Close()
		var out bytes.Buffer
		cmd := exec.Command(bin)
		cmd.ExtraFiles = []*os.File{theirs}
		cmd.Stdout = &out
		err = cmd.Start()
		theirs.Close()
		if err != nil {
			t.Fatal(err)
		}
		ours.Write(frame) // a refusal may come before all is read
		syscall.Shutdown(fds[0], syscall.SHUT_WR)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("wire driver: %v", err)
		}
		return out.String()
	}

	sent := append([]Message{
		Call{Version: Version, Fn: FnAuthenticate, Handle: "h", Args: []string{"debug"}, User: Some("alice")}.Message(),
	}, accepted...)
	for _, m := range sent {
		frame, err := m.Encode()
		if err != nil {
			t.Errorf("%q: %v", m.Type, err)
			continue
		}
		if got, want := recv(frame), cDecoded(m); got != want {
			t.Errorf("%q with %d fields: the shim decoded\n%.300s\nwant\n%.300s", m.Type, len(m.Fields), got, want)
		}
	}
	for _, tt := range refused {
		if tt.c == "" {
			continue
		}
		if got := recv(rawFrame(tt.m)); got != "refused: "+tt.c+"\n" {
			t.Errorf("%s: the shim's decoder says %.200q, want refused: %s", tt.name, got, tt.c)
		}
	}
}
