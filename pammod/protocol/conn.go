package protocol

import (
	"encoding/hex"
	"fmt"
	"io"
)

// Conn is the helper's end of the socketpair: it reads the Call, then asks
// the shim for what it needs and finally sends the result. Requests and
// replies strictly alternate, so it is not safe for concurrent use.
type Conn struct {
	rw      io.ReadWriter
	version int32 // the call's; 0 before ReadCall
	// keepLogin is the login id a version 2 module is to keep on the
	// handle, sent with the result.
	keepLogin Opt
	// loginID is what the version 2 call said the handle holds.
	loginID Opt
}

// NewConn wraps the helper's end of the socketpair.
func NewConn(rw io.ReadWriter) *Conn { return &Conn{rw: rw} }

// ReadCall reads the first message.
func (c *Conn) ReadCall() (Call, error) {
	m, err := Read(c.rw)
	if err != nil {
		return Call{}, fmt.Errorf("reading the call: %w", err)
	}
	call, err := ParseCall(m)
	if err == nil {
		c.version, c.loginID = call.Version, call.LoginID
	}
	return call, err
}

// PAMError is a PAM return code other than PAM_SUCCESS from a request.
type PAMError struct {
	Op   string
	Code int32
}

func (e *PAMError) Error() string { return fmt.Sprintf("%s: PAM error %d", e.Op, e.Code) }

// request sends m and reads the reply; a PAM code other than success is a
// *PAMError. The returned reader is positioned after the code.
func (c *Conn) request(op string, m Message) (*Fields, error) {
	if err := Write(c.rw, m); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	reply, err := Read(c.rw)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the reply: %w", op, err)
	}
	if reply.Type != MsgReply {
		return nil, frameErr("%s: reply of type %q", op, reply.Type)
	}
	r := reply.Reader()
	code := r.Int()
	if r.err != nil {
		return nil, r.err
	}
	if code != 0 {
		if err := r.Done(); err != nil {
			return nil, err
		}
		return nil, &PAMError{Op: op, Code: code}
	}
	return r, nil
}

func (c *Conn) requestDone(op string, m Message) error {
	r, err := c.request(op, m)
	if err != nil {
		return err
	}
	return r.Done()
}

// GetItem returns a PAM item (pam_get_item).
func (c *Conn) GetItem(item int32) (Opt, error) {
	r, err := c.request("get item", Message{Type: MsgGetItem, Fields: []Value{Int(item)}})
	if err != nil {
		return Opt{}, err
	}
	v := r.Opt()
	return v, r.Done()
}

// SetItem sets a PAM item (pam_set_item); an invalid Opt sets NULL.
func (c *Conn) SetItem(item int32, v Opt) error {
	return c.requestDone("set item", Message{Type: MsgSetItem, Fields: []Value{Int(item), OptStr(v)}})
}

// GetUser runs pam_get_user, which may prompt with the given prompt.
func (c *Conn) GetUser(prompt Opt) (string, error) {
	r, err := c.request("get user", Message{Type: MsgGetUser, Fields: []Value{OptStr(prompt)}})
	if err != nil {
		return "", err
	}
	u := r.Opt()
	if err := r.Done(); err != nil {
		return "", err
	}
	if !u.Valid {
		return "", &PAMError{Op: "get user", Code: PAMUserUnknown} // success without a user
	}
	return u.S, nil
}

// Converse runs the application's conversation function. The responses
// are one per message; a missing one (null) is an invalid Opt.
func (c *Conn) Converse(msgs []ConvMessage) ([]ConvResponse, error) {
	if len(msgs) == 0 || len(msgs) > maxConv {
		return nil, fmt.Errorf("conversation: %d messages, want 1..%d", len(msgs), maxConv)
	}
	f := []Value{Int(int32(len(msgs)))}
	for _, m := range msgs {
		f = append(f, Int(m.Style), Str(m.Text))
	}
	r, err := c.request("conversation", Message{Type: MsgConv, Fields: f})
	if err != nil {
		return nil, err
	}
	resp := make([]ConvResponse, len(msgs))
	for i := range resp {
		resp[i] = ConvResponse{Resp: r.Opt(), Retcode: r.Int()}
	}
	return resp, r.Done()
}

// GetXAuth returns PAM_XAUTHDATA's name and data; both invalid when the
// application set none.
func (c *Conn) GetXAuth() (name, data Opt, err error) {
	r, err := c.request("get xauthdata", Message{Type: MsgGetXAuth})
	if err != nil {
		return Opt{}, Opt{}, err
	}
	hexName, hexData := r.Opt(), r.Opt()
	if err := r.Done(); err != nil {
		return Opt{}, Opt{}, err
	}
	if name, err = unhex(hexName); err == nil {
		data, err = unhex(hexData)
	}
	if err != nil {
		return Opt{}, Opt{}, frameErr("get xauthdata: %v", err)
	}
	return name, data, nil
}

func unhex(o Opt) (Opt, error) {
	if !o.Valid {
		return o, nil
	}
	b, err := hex.DecodeString(o.S)
	return Some(string(b)), err
}

// SetXAuth sets PAM_XAUTHDATA (the shim takes each as a C string).
func (c *Conn) SetXAuth(name, data string) error {
	return c.requestDone("set xauthdata", Message{Type: MsgSetXAuth, Fields: []Value{Str(name), Str(data)}})
}

// GetEnv reads a PAM environment variable (pam_getenv).
func (c *Conn) GetEnv(name string) (Opt, error) {
	r, err := c.request("getenv", Message{Type: MsgGetEnv, Fields: []Value{Str(name)}})
	if err != nil {
		return Opt{}, err
	}
	v := r.Opt()
	return v, r.Done()
}

// PutEnv runs pam_putenv: "NAME=value" sets, "NAME=" sets empty, "NAME"
// deletes.
func (c *Conn) PutEnv(entry string) error {
	return c.requestDone("putenv", Message{Type: MsgPutEnv, Fields: []Value{Str(entry)}})
}

// EnvList returns the PAM environment (pam_getenvlist).
func (c *Conn) EnvList() ([]string, error) {
	r, err := c.request("getenvlist", Message{Type: MsgEnvList})
	if err != nil {
		return nil, err
	}
	n := r.Int()
	if r.err == nil && (n < 0 || n > 4096) {
		return nil, frameErr("environment of %d entries", n)
	}
	var env []string
	for i := int32(0); i < n && r.err == nil; i++ {
		env = append(env, r.Str())
	}
	return env, r.Done()
}

// FailDelay asks for a delay after a failed authentication (pam_fail_delay).
func (c *Conn) FailDelay(usec int32) error {
	return c.requestDone("fail delay", Message{Type: MsgFailDelay, Fields: []Value{Int(usec)}})
}

// GetData reads a string the module stored on this PAM handle.
func (c *Conn) GetData(key string) (Opt, error) {
	r, err := c.request("get data", Message{Type: MsgGetData, Fields: []Value{Str(key)}})
	if err != nil {
		return Opt{}, err
	}
	v := r.Opt()
	return v, r.Done()
}

// SetData stores a string on this PAM handle for later calls of the same
// handle; an invalid Opt removes it.
func (c *Conn) SetData(key string, v Opt) error {
	return c.requestDone("set data", Message{Type: MsgSetData, Fields: []Value{Str(key), OptStr(v)}})
}

// LoginID is the login's correlation id that the module keeps on the PAM
// handle ("" when none): from a version 2 call, or asked for (version 1).
func (c *Conn) LoginID() (string, error) {
	if c.version >= 2 {
		return c.loginID.S, nil
	}
	v, err := c.GetData(LoginDataKey)
	return v.S, err
}

// KeepLoginID has the module keep id on the PAM handle for the login's
// later phases: with the result (version 2), or at once (version 1).
func (c *Conn) KeepLoginID(id string) error {
	if c.version >= 2 {
		c.keepLogin = Some(id)
		return nil
	}
	return c.SetData(LoginDataKey, Some(id))
}

// Result sends the PAM code the shim returns; it is the last message.
func (c *Conn) Result(code int32) error {
	f := []Value{Int(code)}
	if c.version >= 2 {
		f = append(f, OptStr(c.keepLogin))
	}
	return Write(c.rw, Message{Type: MsgResult, Fields: f})
}
