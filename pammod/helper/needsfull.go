package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// needsFull says why a config needs the full helper ("" when the lean one
// runs its calls, lean.go): a rule of an option whose code the lean build
// leaves out (TOKEN's provider client among them). A PIN can also come
// from a plugin or OPA, whose rules need the full helper anyway.
func needsFull(cfg *rules.Config) string {
	for _, r := range cfg.Rules {
		switch r.Option {
		case rules.OptPlugin, rules.OptOPA, rules.OptPin, rules.OptPinGPG, rules.OptToken:
			return fmt.Sprintf("%s: a %s rule", r.Pos, r.Option)
		}
	}
	return ""
}

// peekCall reads the call the module sent on fd without taking it from
// the socket (MSG_PEEK): whoever runs the call reads it again. The module
// sends a call in one write; a call not all there at once is an error
// here, and the full helper, which reads it with waiting, takes it.
func peekCall(fd int) (protocol.Call, error) {
	var hdr [4]byte
	n, err := peek(fd, hdr[:]) // waits for the module's write
	if err != nil {
		return protocol.Call{}, err
	}
	frame := hdr[:n]
	if size := binary.BigEndian.Uint32(hdr[:]); n == len(hdr) && size <= protocol.MaxFrame {
		frame = make([]byte, len(hdr)+int(size)) // the frame, not a buffer of the largest
		if n, err = peek(fd, frame); err != nil {
			return protocol.Call{}, err
		}
		frame = frame[:n]
	}
	return protocol.NewConn(bytes.NewBuffer(frame)).ReadCall()
}

// peek is recv(MSG_PEEK) on fd, again when a signal interrupted it.
func peek(fd int, buf []byte) (int, error) {
	for {
		n, _, err := syscall.Recvfrom(fd, buf, syscall.MSG_PEEK)
		if err != syscall.EINTR {
			return n, err
		}
	}
}
