// Package protocol is the wire format between pam_accesscontrol.so (the C
// shim inside sshd, login, gdm…) and pam-accesscontrol-helper (Go, one
// process per PAM call), over the socketpair the shim creates.
//
// Both directions carry frames: a 4-byte big-endian length, then a body of
// that many bytes (at most MaxFrame): one type byte and a list of fields,
// each an int ('i', 4 bytes big-endian), a string ('s', a 4-byte length
// and the bytes) or null ('n', an unset PAM item or a missing answer).
// The format is self-describing so both sides can check every frame
// completely before using it; pammod/wire.c holds the C side.
//
// A message is valid when the C side would take it: strings are C strings
// (no NUL byte), a message the shim reads has at most MaxFields fields, and
// a result is one PAM code. Encode refuses anything else (ErrUnsendable),
// so the helper learns of its mistake where it makes it, and Decode refuses
// it too (ErrFrame), so that whatever decodes also encodes.
package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
)

// MaxFrame bounds a frame's body (PAMAC_MAX_FRAME). PAM messages are at
// most 512 bytes and items and environment entries are short; anything
// larger is an error.
const MaxFrame = 64 << 10

// MaxFields bounds the fields of a message the shim reads, which is every
// type but MsgCall and MsgReply (PAMAC_MAX_FIELDS; a conversation of
// PAM_MAX_NUM_MSG messages has 65). The shim's own messages may have more:
// a call's module arguments, a reply's environment.
const MaxFields = 80

// Value kinds.
const (
	KindInt  = 'i'
	KindStr  = 's'
	KindNull = 'n'
)

// Value is one field of a message.
type Value struct {
	Kind byte
	Int  int32
	Str  string
}

// Int, Str and Null make Values.
func Int(i int32) Value  { return Value{Kind: KindInt, Int: i} }
func Str(s string) Value { return Value{Kind: KindStr, Str: s} }
func Null() Value        { return Value{Kind: KindNull} }
func OptStr(o Opt) Value {
	if !o.Valid {
		return Null()
	}
	return Str(o.S)
}

// Opt is a string that may be absent, like a PAM item that is not set.
type Opt struct {
	S     string
	Valid bool
}

// Some makes a present Opt.
func Some(s string) Opt { return Opt{S: s, Valid: true} }

// Message is one frame: a type and its fields.
type Message struct {
	Type   byte
	Fields []Value
}

// ErrFrame is wrapped by every error about a malformed frame.
var ErrFrame = errors.New("malformed frame")

func frameErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFrame, fmt.Sprintf(format, args...))
}

// ErrUnsendable is wrapped by every error of Encode: the message is one
// the other side would refuse, and nothing was sent.
var ErrUnsendable = errors.New("protocol: message the other side would refuse")

// typeNames names the message types in errors.
var typeNames = map[byte]string{
	MsgCall: "call", MsgReply: "reply", MsgGetItem: "get item", MsgSetItem: "set item",
	MsgGetUser: "get user", MsgConv: "conversation", MsgGetEnv: "getenv", MsgPutEnv: "putenv",
	MsgEnvList: "getenvlist", MsgFailDelay: "fail delay", MsgGetData: "get data",
	MsgSetData: "set data", MsgGetXAuth: "get xauthdata", MsgSetXAuth: "set xauthdata", MsgResult: "result", MsgVersion: "version",
}

// shimReads reports whether the shim decodes messages of type t: all but
// the two it sends.
func shimReads(t byte) bool { return t != MsgCall && t != MsgReply }

// invalid says what in m the receiving side refuses (pammod/wire.c's
// parse_body and the result check of pam_accesscontrol.c for the shim),
// naming the field; "" when m is valid. The frame size is checked apart.
func (m Message) invalid() string {
	if _, ok := typeNames[m.Type]; !ok {
		return fmt.Sprintf("unknown message type %q", m.Type)
	}
	if shimReads(m.Type) && len(m.Fields) > MaxFields {
		return fmt.Sprintf("%d fields, the module reads at most %d", len(m.Fields), MaxFields)
	}
	for i, v := range m.Fields {
		switch v.Kind {
		case KindInt, KindNull:
		case KindStr:
			if j := strings.IndexByte(v.Str, 0); j >= 0 {
				return fmt.Sprintf("field %d: string with a NUL byte at byte %d; strings are C strings", i+1, j)
			}
		default:
			return fmt.Sprintf("field %d: value of unknown kind %q", i+1, v.Kind)
		}
	}
	if m.Type == MsgResult {
		// version 1: the code; version 2: the code and the login id
		if len(m.Fields) < 1 || len(m.Fields) > 2 || m.Fields[0].Kind != KindInt {
			return fmt.Sprintf("a result is an int field and an optional string, not %d field(s)", len(m.Fields))
		}
		if len(m.Fields) == 2 && m.Fields[1].Kind == KindInt {
			return "field 2: a result's login id is a string or null"
		}
		if c := m.Fields[0].Int; c < 0 || c >= pamconst.ReturnValues {
			return fmt.Sprintf("field 1: result %d is not a PAM code (0 to %d)", c, pamconst.ReturnValues-1)
		}
	}
	return ""
}

func (m Message) name() string {
	if n, ok := typeNames[m.Type]; ok {
		return fmt.Sprintf("%s message %q", n, m.Type)
	}
	return fmt.Sprintf("message %q", m.Type)
}

// Encode returns the frame of m, length prefix included, or an error
// wrapping ErrUnsendable, naming the field, for a message the other side
// would refuse.
func (m Message) Encode() ([]byte, error) {
	if why := m.invalid(); why != "" {
		return nil, fmt.Errorf("%w: %s: %s", ErrUnsendable, m.name(), why)
	}
	buf := make([]byte, 5, 64)
	buf[4] = m.Type
	for i, v := range m.Fields {
		switch v.Kind {
		case KindInt:
			buf = append(buf, KindInt)
			buf = binary.BigEndian.AppendUint32(buf, uint32(v.Int))
		case KindStr:
			if len(v.Str) > MaxFrame {
				return nil, fmt.Errorf("%w: %s: field %d: string of %d bytes, a frame holds %d", ErrUnsendable, m.name(), i+1, len(v.Str), MaxFrame)
			}
			buf = append(buf, KindStr)
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.Str)))
			buf = append(buf, v.Str...)
		case KindNull:
			buf = append(buf, KindNull)
		}
		if len(buf)-4 > MaxFrame {
			return nil, fmt.Errorf("%w: %s: field %d: the frame grows past %d bytes", ErrUnsendable, m.name(), i+1, MaxFrame)
		}
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	return buf, nil
}

// Decode parses a frame body (without its length prefix).
func Decode(body []byte) (Message, error) {
	if len(body) == 0 {
		return Message{}, frameErr("empty body")
	}
	if len(body) > MaxFrame {
		return Message{}, frameErr("body of %d bytes, more than %d", len(body), MaxFrame)
	}
	m := Message{Type: body[0]}
	for rest := body[1:]; len(rest) > 0; {
		kind := rest[0]
		rest = rest[1:]
		switch kind {
		case KindInt:
			if len(rest) < 4 {
				return Message{}, frameErr("int field cut short")
			}
			m.Fields = append(m.Fields, Int(int32(binary.BigEndian.Uint32(rest))))
			rest = rest[4:]
		case KindStr:
			if len(rest) < 4 {
				return Message{}, frameErr("string length cut short")
			}
			n := binary.BigEndian.Uint32(rest)
			rest = rest[4:]
			if uint64(n) > uint64(len(rest)) {
				return Message{}, frameErr("string of %d bytes with %d left", n, len(rest))
			}
			m.Fields = append(m.Fields, Str(string(rest[:n])))
			rest = rest[n:]
		case KindNull:
			m.Fields = append(m.Fields, Null())
		default:
			return Message{}, frameErr("unknown field kind %#x", kind)
		}
	}
	if why := m.invalid(); why != "" {
		return Message{}, frameErr("%s: %s", m.name(), why)
	}
	return m, nil
}

// Write sends one message.
func Write(w io.Writer, m Message) error {
	frame, err := m.Encode()
	if err != nil {
		return err
	}
	_, err = w.Write(frame)
	return err
}

// Read receives one message.
func Read(r io.Reader) (Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Message{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxFrame {
		return Message{}, frameErr("frame length %d not in 1..%d", n, MaxFrame)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return Message{}, fmt.Errorf("%w: body cut short: %v", ErrFrame, err)
	}
	return Decode(body)
}

// Fields reads a message's fields in order, checking their kinds.
type Fields struct {
	m   Message
	i   int
	err error
}

// Reader returns a reader over m's fields.
func (m Message) Reader() *Fields { return &Fields{m: m} }

func (f *Fields) next(want string) (Value, bool) {
	if f.err != nil {
		return Value{}, false
	}
	if f.i >= len(f.m.Fields) {
		f.err = frameErr("message %q: field %d (%s) missing", f.m.Type, f.i+1, want)
		return Value{}, false
	}
	v := f.m.Fields[f.i]
	f.i++
	return v, true
}

// Int reads an int field.
func (f *Fields) Int() int32 {
	v, ok := f.next("int")
	if ok && v.Kind != KindInt {
		f.err = frameErr("message %q: field %d is %q, want an int", f.m.Type, f.i, v.Kind)
	}
	return v.Int
}

// Str reads a string field.
func (f *Fields) Str() string {
	v, ok := f.next("string")
	if ok && v.Kind != KindStr {
		f.err = frameErr("message %q: field %d is %q, want a string", f.m.Type, f.i, v.Kind)
	}
	return v.Str
}

// Opt reads a string or null field.
func (f *Fields) Opt() Opt {
	v, ok := f.next("string or null")
	if !ok {
		return Opt{}
	}
	switch v.Kind {
	case KindStr:
		return Some(v.Str)
	case KindNull:
		return Opt{}
	}
	f.err = frameErr("message %q: field %d is %q, want a string or null", f.m.Type, f.i, v.Kind)
	return Opt{}
}

// Done reports the first error, or one for fields left over.
func (f *Fields) Done() error {
	if f.err == nil && f.i != len(f.m.Fields) {
		f.err = frameErr("message %q: %d field(s) left over", f.m.Type, len(f.m.Fields)-f.i)
	}
	return f.err
}
