package protocol

import (
	"bytes"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	call := Call{Version: Version, Fn: FnAcctMgmt, Flags: 0x8000, PID: 42, PPID: 1, Handle: "0x5555deadbeef",
		Args: []string{"conf=/x.conf", "debug", "", "a=b c"},
		User: Some("alice"), Service: Some("sshd"), RHost: Some(""), TTY: Some("ssh")}
	for _, m := range []Message{
		call.Message(),
		{Type: MsgReply, Fields: []Value{Int(0), Null(), Str("x\x00y"), Int(-1)}},
		{Type: MsgEnvList},
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

func TestEncodeTooLarge(t *testing.T) {
	_, err := Message{Type: MsgPutEnv, Fields: []Value{Str(strings.Repeat("x", MaxFrame))}}.Encode()
	if err == nil {
		t.Fatal("a frame over MaxFrame was encoded")
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
		MsgGetItem: {Type: MsgReply, Fields: []Value{Int(0), Str("10.0.0.1")}},
		MsgConv:    {Type: MsgReply, Fields: []Value{Int(0), Str("secret"), Null()}},
		MsgEnvList: {Type: MsgReply, Fields: []Value{Int(0), Int(2), Str("A=1"), Str("B=")}},
		MsgGetData: {Type: MsgReply, Fields: []Value{Int(0), Null()}},
		MsgGetUser: {Type: MsgReply, Fields: []Value{Int(0), Str("bob"), Str("extra")}},
	})
	c := NewConn(helperEnd)
	if v, err := c.GetItem(ItemRHost); err != nil || v != Some("10.0.0.1") {
		t.Errorf("GetItem = %v, %v", v, err)
	}
	resp, err := c.Converse([]ConvMessage{{PromptEchoOff, "PIN: "}, {TextInfo, "hello"}})
	if err != nil || !reflect.DeepEqual(resp, []Opt{Some("secret"), {}}) {
		t.Errorf("Converse = %v, %v", resp, err)
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
