package protocol

import (
	"bytes"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	call := Call{Version: Version, Fn: FnAcctMgmt, Flags: 0x8000, PID: 42, PPID: 1, Handle: "0x5555deadbeef",
		Args: []string{"conf=/x.conf", "debug", "", "a=b c"},
		User: Some("alice"), Service: Some("sshd"), RHost: Some(""), TTY: Some("ssh")}
	manyArgs := Call{Version: Version, Fn: FnAuthenticate, Handle: "h", Args: make([]string, maxArgs)}
	for _, m := range []Message{
		call.Message(),
		manyArgs.Message(), // the shim sends more than MaxFields fields
		{Type: MsgReply, Fields: []Value{Int(0), Null(), Str("x\ty\xff"), Int(-1)}},
		{Type: MsgEnvList},
		{Type: MsgConv, Fields: conv(maxConv)}, // 65 fields
		{Type: MsgResult, Fields: []Value{Int(7)}},
	} {
		frame, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Read(bytes.NewReader(frame))
		if err != nil {
			t.Fatalf("%q: %v", m.Type, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip of %q:\n got %#v\nwant %#v", m.Type, got, m)
		}
	}
	got, err := ParseCall(call.Message())
	if err != nil || !reflect.DeepEqual(got, call) {
		t.Fatalf("ParseCall = %#v, %v", got, err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"zero length", []byte{0, 0, 0, 0}, "frame length 0"},
		{"oversize", []byte{0, 1, 0, 1, 'R'}, "frame length 65537"},
		{"huge", []byte{0xff, 0xff, 0xff, 0xff}, "not in 1..65536"},
		{"body cut short", []byte{0, 0, 0, 5, 'R', 'i'}, "body cut short"},
		{"int cut short", []byte{0, 0, 0, 3, 'R', 'i', 0}, "int field cut short"},
		{"string longer than frame", []byte{0, 0, 0, 7, 'R', 's', 0, 0, 0, 9, 'a'}, "string of 9 bytes"},
		{"string length cut short", []byte{0, 0, 0, 3, 'R', 's', 0}, "string length cut short"},
		{"unknown kind", []byte{0, 0, 0, 2, 'R', 'z'}, "unknown field kind"},
		{"NUL in a string", []byte{0, 0, 0, 8, 'R', 's', 0, 0, 0, 2, 'a', 0}, "field 1: string with a NUL byte at byte 1"},
		{"unknown type", []byte{0, 0, 0, 1, 'Q'}, "unknown message type"},
		{"bad result", []byte{0, 0, 0, 6, 'X', 'i', 0, 0, 0, 99}, "result 99 is not a PAM code"},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.frame))
		if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrFrame with %q", tt.name, err, tt.want)
		}
	}
}

func TestParseCallRejects(t *testing.T) {
	good := Call{Version: Version, Fn: FnAuthenticate, Handle: "h"}
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"not a call", Message{Type: MsgReply}, "want a call"},
		{"no fields", Message{Type: MsgCall}, "missing"},
		{"wrong version", Call{Version: 9, Fn: FnAuthenticate}.Message(), "protocol version 9"},
		{"version 0", Call{Version: 0, Fn: FnAuthenticate}.Message(), "protocol version 0"},
		{"version 1 with a login id", Message{Type: MsgCall, Fields: append(Call{Version: 1, Fn: FnAuthenticate, Handle: "h"}.Message().Fields, Null())}, "left over"},
		{"version 2 without a login id", func() Message {
			m := good.Message()
			m.Fields = m.Fields[:len(m.Fields)-1]
			return m
		}(), "missing"},
		{"unknown fn", Call{Version: Version, Fn: 99}.Message(), "unknown PAM function"},
		{"extra field", Message{Type: MsgCall, Fields: append(good.Message().Fields, Int(1))}, "left over"},
		{"negative argc", func() Message {
			m := good.Message()
			m.Fields[6] = Int(-3)
			return m
		}(), "-3 arguments"},
		{"string where int", func() Message {
			m := good.Message()
			m.Fields[1] = Str("auth")
			return m
		}(), "want an int"},
	}
	for _, tt := range tests {
		_, err := ParseCall(tt.m)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// conv returns the fields of a conversation of n messages.
func conv(n int) []Value {
	f := []Value{Int(int32(n))}
	for i := 0; i < n; i++ {
		f = append(f, Int(TextInfo), Str("hello"))
	}
	return f
}

// ints returns n int fields.
func ints(n int) []Value {
	f := make([]Value, n)
	for i := range f {
		f[i] = Int(int32(i))
	}
	return f
}

// refused are messages the C side refuses, with what Encode must say.
// c is how pammod/wire.c's decoder refuses the frame, "" where the check
// is not wire.c's (pam_accesscontrol.c checks the result, serve.c the type).
var refused = []struct {
	name string
	m    Message
	want string
	c    string
}{
	{"NUL in a string", Message{Type: MsgSetItem, Fields: []Value{Int(ItemRUser), Str("bob\x00root")}},
		`set item message 'S': field 2: string with a NUL byte at byte 3`, "NUL byte inside a string"},
	{"NUL in a conversation", Message{Type: MsgConv, Fields: []Value{Int(1), Int(TextInfo), Str("\x00")}},
		`conversation message 'V': field 3: string with a NUL byte at byte 0`, "NUL byte inside a string"},
	{"NUL in a call", Message{Type: MsgCall, Fields: []Value{Int(Version), Str("a\x00")}},
		`call message 'C': field 2: string with a NUL`, "NUL byte inside a string"},
	{"NUL in a reply", Message{Type: MsgReply, Fields: []Value{Int(0), Str("x\x00y")}},
		`reply message 'R': field 2: string with a NUL`, "NUL byte inside a string"},
	{"too many fields", Message{Type: MsgConv, Fields: ints(MaxFields + 1)},
		`conversation message 'V': 81 fields, the module reads at most 80`, "too many fields"},
	{"unknown kind", Message{Type: MsgGetEnv, Fields: []Value{{Kind: 'z'}}},
		`getenv message 'E': field 1: value of unknown kind 'z'`, "unknown field kind"},
	{"unknown type", Message{Type: 'Q'}, `message 'Q': unknown message type 'Q'`, ""},
	{"result out of range", Message{Type: MsgResult, Fields: []Value{Int(32)}},
		`result message 'X': field 1: result 32 is not a PAM code (0 to 31)`, ""},
	{"negative result", Message{Type: MsgResult, Fields: []Value{Int(-1)}}, `result -1 is not a PAM code`, ""},
	{"result without a code", Message{Type: MsgResult}, `a result is an int field and an optional string, not 0`, ""},
	{"result of a string", Message{Type: MsgResult, Fields: []Value{Str("0")}}, `a result is an int field and an optional string`, ""},
	{"result with an int login id", Message{Type: MsgResult, Fields: []Value{Int(0), Int(1)}}, `field 2: a result's login id is a string or null`, ""},
	{"result of three fields", Message{Type: MsgResult, Fields: []Value{Int(0), Null(), Null()}}, `not 3 field(s)`, ""},
	{"string over MaxFrame", Message{Type: MsgPutEnv, Fields: []Value{Str(strings.Repeat("x", MaxFrame+1))}},
		`putenv message 'P': field 1: string of 65537 bytes, a frame holds 65536`, "frame length out of range"},
	{"frame over MaxFrame", Message{Type: MsgSetData, Fields: []Value{Str(strings.Repeat("k", MaxFrame/2)), Str(strings.Repeat("v", MaxFrame/2))}},
		`set data message 'T': field 2: the frame grows past 65536 bytes`, "frame length out of range"},
}

func TestEncodeRefuses(t *testing.T) {
	for _, tt := range refused {
		frame, err := tt.m.Encode()
		if !errors.Is(err, ErrUnsendable) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Encode = %d bytes, %v; want ErrUnsendable with %q", tt.name, len(frame), err, tt.want)
		}
		var buf bytes.Buffer
		if err := Write(&buf, tt.m); !errors.Is(err, ErrUnsendable) || buf.Len() != 0 {
			t.Errorf("%s: Write wrote %d bytes, err %v", tt.name, buf.Len(), err)
		}
	}
	for _, m := range accepted {
		if _, err := m.Encode(); err != nil {
			t.Errorf("%q with %d fields: %v", m.Type, len(m.Fields), err)
		}
	}
}

// accepted are messages at the limits, which are sent.
var accepted = []Message{
	{Type: MsgPutEnv, Fields: []Value{Str(strings.Repeat("x", MaxFrame-6))}}, // a frame of MaxFrame bytes
	{Type: MsgConv, Fields: ints(MaxFields)},
	{Type: MsgConv, Fields: conv(maxConv)},
	{Type: MsgSetItem, Fields: []Value{Int(ItemRUser), Null()}},
	{Type: MsgSetData, Fields: []Value{Str("k"), Str("\xff\n\tvalue")}},
	{Type: MsgResult, Fields: []Value{Int(31)}},
	{Type: MsgResult, Fields: []Value{Int(0), Str("4f2a")}},
	{Type: MsgResult, Fields: []Value{Int(7), Null()}},
	{Type: MsgEnvList},
}

// TestConnRefusesEarly: a request the shim would refuse fails in the
// helper, naming the request, and nothing reaches the shim.
func TestConnRefusesEarly(t *testing.T) {
	var sent bytes.Buffer
	c := NewConn(struct {
		io.Reader
		io.Writer
	}{strings.NewReader(""), &sent})
	for name, err := range map[string]error{
		"putenv":   c.PutEnv("A=\x00"),
		"set data": c.SetData("k", Some("v\x00")),
		"getenv":   func() error { _, err := c.GetEnv("A\x00"); return err }(),
		"result":   c.Result(99),
	} {
		if !errors.Is(err, ErrUnsendable) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want ErrUnsendable", name, err)
		}
	}
	if sent.Len() != 0 {
		t.Errorf("%d bytes reached the shim", sent.Len())
	}
}

// fakeShim answers the helper's requests as the C shim does, from maps.
func fakeShim(t *testing.T, conn net.Conn, answers map[byte]Message) {
	t.Helper()
	go func() {
		for {
			m, err := Read(conn)
			if err != nil || m.Type == MsgResult {
				conn.Close()
				return
			}
			reply, ok := answers[m.Type]
			if !ok {
				reply = Message{Type: MsgReply, Fields: []Value{Int(29)}} // PAM_BAD_ITEM-ish
			}
			Write(conn, reply)
		}
	}()
}

func TestConn(t *testing.T) {
	helperEnd, shimEnd := net.Pipe()
	fakeShim(t, shimEnd, map[byte]Message{
		MsgGetItem:  {Type: MsgReply, Fields: []Value{Int(0), Str("10.0.0.1")}},
		MsgConv:     {Type: MsgReply, Fields: []Value{Int(0), Str("secret"), Int(0), Null(), Int(7)}},
		MsgGetXAuth: {Type: MsgReply, Fields: []Value{Int(0), Str("4d49542d4d414749432d434f4f4b49452d31"), Str("00ff41")}},
		MsgEnvList:  {Type: MsgReply, Fields: []Value{Int(0), Int(2), Str("A=1"), Str("B=")}},
		MsgGetData:  {Type: MsgReply, Fields: []Value{Int(0), Null()}},
		MsgGetUser:  {Type: MsgReply, Fields: []Value{Int(0), Str("bob"), Str("extra")}},
	})
	c := NewConn(helperEnd)
	if v, err := c.GetItem(ItemRHost); err != nil || v != Some("10.0.0.1") {
		t.Errorf("GetItem = %v, %v", v, err)
	}
	resp, err := c.Converse([]ConvMessage{{PromptEchoOff, "PIN: "}, {TextInfo, "hello"}})
	if err != nil || !reflect.DeepEqual(resp, []ConvResponse{{Some("secret"), 0}, {Opt{}, 7}}) {
		t.Errorf("Converse = %v, %v", resp, err)
	}
	if name, data, err := c.GetXAuth(); err != nil || name != Some("MIT-MAGIC-COOKIE-1") || data != Some("\x00\xffA") {
		t.Errorf("GetXAuth = %v, %v, %v", name, data, err)
	}
	if env, err := c.EnvList(); err != nil || !reflect.DeepEqual(env, []string{"A=1", "B="}) {
		t.Errorf("EnvList = %v, %v", env, err)
	}
	if v, err := c.GetData("k"); err != nil || v.Valid {
		t.Errorf("GetData = %v, %v", v, err)
	}
	var pe *PAMError
	if err := c.PutEnv("X=1"); !errors.As(err, &pe) || pe.Code != 29 {
		t.Errorf("PutEnv error = %v, want PAM code 29", err)
	}
	if _, err := c.GetUser(Opt{}); !errors.Is(err, ErrFrame) {
		t.Errorf("a reply with a field too many: err = %v, want ErrFrame", err)
	}
	if _, err := c.Converse(nil); err == nil {
		t.Error("an empty conversation was sent")
	}
	c.Result(0)
}

func FuzzDecode(f *testing.F) {
	call, _ := Call{Version: Version, Fn: FnOpenSession, Args: []string{"debug"}, User: Some("u")}.Message().Encode()
	f.Add(call[4:])
	f.Add([]byte{'R', 'i', 0, 0, 0, 0, 'n', 's', 0, 0, 0, 1, 'x'})
	f.Add([]byte{'V', 'i', 0, 0, 0, 1, 'i', 0, 0, 0, 1, 's', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(body)
		if err != nil {
			return
		}
		frame, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if !bytes.Equal(frame[4:], body) {
			t.Fatalf("re-encoding differs:\n%x\n%x", frame[4:], body)
		}
		ParseCall(m) // must not panic
	})
}

// TestLoginIDByVersion: a version 2 module sends the handle's login id
// with the call and takes the one to keep with the result, no round trip;
// a version 1 module, still loaded by a process that ran through an
// upgrade, is asked for it and told to keep it, as before.
func TestLoginIDByVersion(t *testing.T) {
	for _, tt := range []struct {
		version  int32
		held     Opt     // on the handle when the call comes
		wantReqs []byte  // the requests the module sees
		result   []Value // the result's fields
	}{
		{version: 2, held: Some("L1"), result: []Value{Int(0), Str("L2")}},
		{version: 2, held: Opt{}, result: []Value{Int(0), Str("L2")}},
		{version: 1, held: Some("L1"), wantReqs: []byte{MsgGetData, MsgSetData}, result: []Value{Int(0)}},
	} {
		helperEnd, shimEnd := net.Pipe()
		call := Call{Version: tt.version, Fn: FnAcctMgmt, Handle: "0x1", LoginID: tt.held}
		if tt.version < 2 {
			call.LoginID = Opt{} // not in a version 1 call
		}
		type seen struct {
			reqs   []byte
			set    Value
			result Message
		}
		done := make(chan seen, 1)
		go func() {
			var s seen
			defer func() { shimEnd.Close(); done <- s }()
			if err := Write(shimEnd, call.Message()); err != nil {
				return
			}
			for {
				m, err := Read(shimEnd)
				if err != nil {
					return
				}
				switch m.Type {
				case MsgResult:
					s.result = m
					return
				case MsgGetData:
					s.reqs = append(s.reqs, m.Type)
					Write(shimEnd, Message{Type: MsgReply, Fields: []Value{Int(0), OptStr(tt.held)}})
				case MsgSetData:
					s.reqs = append(s.reqs, m.Type)
					s.set = m.Fields[1]
					Write(shimEnd, Message{Type: MsgReply, Fields: []Value{Int(0)}})
				default:
					return
				}
			}
		}()
		c := NewConn(helperEnd)
		if _, err := c.ReadCall(); err != nil {
			t.Fatalf("version %d: %v", tt.version, err)
		}
		id, err := c.LoginID()
		if err != nil || id != tt.held.S {
			t.Errorf("version %d: LoginID = %q, %v; want %q", tt.version, id, err, tt.held.S)
		}
		if err := c.KeepLoginID("L2"); err != nil {
			t.Errorf("version %d: KeepLoginID: %v", tt.version, err)
		}
		if err := c.Result(0); err != nil {
			t.Errorf("version %d: Result: %v", tt.version, err)
		}
		s := <-done
		if !bytes.Equal(s.reqs, tt.wantReqs) {
			t.Errorf("version %d: requests %q, want %q", tt.version, s.reqs, tt.wantReqs)
		}
		if tt.version < 2 && s.set != Str("L2") {
			t.Errorf("version %d: set data %v, want L2", tt.version, s.set)
		}
		if !reflect.DeepEqual(s.result.Fields, tt.result) {
			t.Errorf("version %d: result %v, want %v", tt.version, s.result.Fields, tt.result)
		}
		helperEnd.Close()
	}
}

// TestCallAuthOutcome: version 3 carries how the last pam_authenticate
// ended; an older module's call says nothing of it (AuthNotTold), and an
// outcome the module cannot have sent is a malformed call.
func TestCallAuthOutcome(t *testing.T) {
	for _, a := range []AuthOutcome{AuthNotSeen, AuthSucceeded, AuthFailed, AuthUnknown} {
		c := Call{Version: Version, Fn: FnAcctMgmt, PID: 1, Handle: "0x1", Auth: a}
		got, err := ParseCall(c.Message())
		if err != nil || got.Auth != a {
			t.Errorf("%s: parsed %s, %v", a, got.Auth, err)
		}
	}
	old := Call{Version: 2, Fn: FnAcctMgmt, PID: 1, Handle: "0x1", Auth: AuthSucceeded}
	if got, err := ParseCall(old.Message()); err != nil || got.Auth != AuthNotTold {
		t.Errorf("version 2: %s, %v; want %s", got.Auth, err, AuthNotTold)
	}
	for _, bad := range []AuthOutcome{-1, 4, 99} {
		c := Call{Version: Version, Fn: FnAcctMgmt, PID: 1, Handle: "0x1", Auth: bad}
		if _, err := ParseCall(c.Message()); err == nil {
			t.Errorf("outcome %d accepted", bad)
		}
	}
}
