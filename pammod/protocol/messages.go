package protocol

import (
	"fmt"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
)

// Version is sent in every Call: the module's protocol version. A helper
// serves the versions from OldestVersion to Version, and answers any other
// with MsgVersion (the module then runs the helper of its own build).
//
// Version 2 carries the login's correlation id both ways: in the Call (what
// the handle holds) and in the result (what the handle is to keep), where
// version 1 asked for it with a get data and a set data request, two round
// trips a call.
//
// Version 3 adds how the application's last pam_authenticate on the handle
// ended (AuthOutcome), which the module learns from libpam: a decision made
// in an authentication that failed must not stand for a later phase.
const Version = 3

// OldestVersion is the oldest module a helper serves: after an upgrade a
// process that loaded the old module (gdm, a long-running sshd) still calls
// the new daemon, or execs the new helper, until it restarts.
const OldestVersion = 1

// LoginDataKey is the per-handle data (MsgGetData, MsgSetData) under which
// a version 1 module keeps the login's correlation id; a version 2 module
// keeps it there itself.
const LoginDataKey = "login"

// Message types. The shim sends MsgCall first, then answers each request
// of the helper with one MsgReply, until the helper sends MsgResult.
const (
	MsgCall      = 'C' // shim → helper: the PAM call
	MsgReply     = 'R' // shim → helper: int PAM code, then the answer
	MsgGetItem   = 'G' // int item → opt value
	MsgSetItem   = 'S' // int item, opt value
	MsgGetUser   = 'U' // opt prompt → opt user
	MsgConv      = 'V' // int n, n × (int style, str text) → n × (opt response, int resp_retcode)
	MsgGetEnv    = 'E' // str name → opt value
	MsgPutEnv    = 'P' // str "NAME=value", "NAME=" or "NAME" (pam_putenv)
	MsgEnvList   = 'L' // → int n, n × str "NAME=value"
	MsgFailDelay = 'F' // int microseconds
	MsgGetData   = 'D' // str key → opt value
	MsgSetData   = 'T' // str key, opt value
	MsgGetXAuth  = 'A' // → opt name, opt data: PAM_XAUTHDATA, each hex-encoded
	MsgSetXAuth  = 'B' // str name, str data
	MsgResult    = 'X' // helper → shim: int PAM code (version 2: then opt login id to keep); the last message
	// MsgVersion, the daemon's only answer to a call of another protocol
	// version: int the version it speaks. The module then runs the helper
	// of its own build instead: skew is never a reason to deny.
	MsgVersion = 'W'
)

// Fn is the PAM entry point a Call is for.
type Fn int32

const (
	FnAuthenticate Fn = iota + 1
	FnSetcred
	FnAcctMgmt
	FnOpenSession
	FnCloseSession
	FnChauthtok
	// FnEnd is pam_end: a pam_python script's pam_sm_end runs.
	FnEnd
)

func (f Fn) String() string {
	switch f {
	case FnAuthenticate:
		return "auth"
	case FnSetcred:
		return "setcred"
	case FnAcctMgmt:
		return "account"
	case FnOpenSession:
		return "open_session"
	case FnCloseSession:
		return "close_session"
	case FnChauthtok:
		return "chauthtok"
	case FnEnd:
		return "end"
	}
	return fmt.Sprintf("fn(%d)", int32(f))
}

// Call is the first message: which PAM call runs, for whom.
type Call struct {
	Version int32
	Fn      Fn
	Flags   int32
	// PID and PPID are the host process and its parent as the module sees
	// them, and Handle the pam_handle_t's address. The helper names the
	// login by the pid the kernel gives it, refuses a call whose PID
	// differs, and reads the parent and start times from /proc itself
	// (pammod/loginstate); PPID is for the log.
	PID, PPID                        int32
	Handle                           string
	Args                             []string // module arguments, as in the PAM config line
	User, Service, RHost, RUser, TTY Opt
	// LoginID (version 2) is the login's correlation id that the handle
	// holds from an earlier phase; invalid when it holds none.
	LoginID Opt
	// Auth (version 3) is how the application's last pam_authenticate on
	// this handle ended; AuthNotTold from an older module.
	Auth AuthOutcome
}

// AuthOutcome is how the application's last pam_authenticate on a handle
// ended, as the module saw it through libpam's fail-delay callback
// (pammod/authwatch.c: the two must agree).
type AuthOutcome int32

const (
	// AuthNotTold: an older module (protocol 1 and 2), which cannot tell.
	// Only a process that loaded it before an upgrade calls with it.
	AuthNotTold AuthOutcome = -1
	// AuthNotSeen: no pam_authenticate on this handle ran our auth line.
	AuthNotSeen AuthOutcome = iota - 1
	AuthSucceeded
	AuthFailed
	// AuthUnknown: one ran it, but how it ended cannot be known (another
	// handle of the process holds the watch, the application replaced the
	// callback, or it is still under way).
	AuthUnknown
)

func (a AuthOutcome) String() string {
	switch a {
	case AuthNotTold:
		return "not told (an older module)"
	case AuthNotSeen:
		return "none seen"
	case AuthSucceeded:
		return "succeeded"
	case AuthFailed:
		return "failed"
	}
	return "unknown"
}

// maxArgs bounds the module arguments a Call may carry.
const maxArgs = 256

// Message encodes c.
func (c Call) Message() Message {
	f := []Value{Int(c.Version), Int(int32(c.Fn)), Int(c.Flags), Int(c.PID), Int(c.PPID),
		Str(c.Handle), Int(int32(len(c.Args)))}
	for _, a := range c.Args {
		f = append(f, Str(a))
	}
	f = append(f, OptStr(c.User), OptStr(c.Service), OptStr(c.RHost), OptStr(c.RUser), OptStr(c.TTY))
	if c.Version >= 2 {
		f = append(f, OptStr(c.LoginID))
	}
	if c.Version >= 3 {
		f = append(f, Int(int32(c.Auth)))
	}
	return Message{Type: MsgCall, Fields: f}
}

// VersionError is a call of another protocol version than this build's:
// the rest of it may be laid out otherwise, and is not read.
type VersionError struct{ Got int32 }

func (e *VersionError) Error() string {
	return fmt.Sprintf("protocol version %d from the module, helper speaks %d to %d: install both from one build", e.Got, OldestVersion, Version)
}

// ParseCall decodes and checks a Call. A call of another version is a
// *VersionError, found from its first field alone.
func ParseCall(m Message) (Call, error) {
	if m.Type != MsgCall {
		return Call{}, frameErr("first message is %q, want a call", m.Type)
	}
	if len(m.Fields) > 0 && m.Fields[0].Kind == KindInt && (m.Fields[0].Int < OldestVersion || m.Fields[0].Int > Version) {
		return Call{}, &VersionError{Got: m.Fields[0].Int}
	}
	r := m.Reader()
	c := Call{Version: r.Int(), Fn: Fn(r.Int()), Flags: r.Int(), PID: r.Int(), PPID: r.Int(), Handle: r.Str()}
	n := r.Int()
	if n < 0 || n > maxArgs {
		return Call{}, frameErr("call with %d arguments", n)
	}
	for i := int32(0); i < n; i++ {
		c.Args = append(c.Args, r.Str())
	}
	c.User, c.Service, c.RHost, c.RUser, c.TTY = r.Opt(), r.Opt(), r.Opt(), r.Opt(), r.Opt()
	if c.Version >= 2 {
		c.LoginID = r.Opt()
	}
	c.Auth = AuthNotTold
	if c.Version >= 3 {
		c.Auth = AuthOutcome(r.Int())
	}
	if err := r.Done(); err != nil {
		return Call{}, err
	}
	if c.Version >= 3 && (c.Auth < AuthNotSeen || c.Auth > AuthUnknown) {
		return Call{}, frameErr("unknown authentication outcome %d", c.Auth)
	}
	if c.Fn < FnAuthenticate || c.Fn > FnEnd {
		return Call{}, frameErr("unknown PAM function %d", c.Fn)
	}
	return c, nil
}

// Message is one PAM conversation message.
type ConvMessage struct {
	Style int32 // PAM_PROMPT_ECHO_OFF 1, PAM_PROMPT_ECHO_ON 2, PAM_ERROR_MSG 3, PAM_TEXT_INFO 4…
	Text  string
}

// ConvResponse is the application's answer to one message: the text (null
// for none) and resp_retcode, which Linux-PAM leaves unused but passes on.
type ConvResponse struct {
	Resp    Opt
	Retcode int32
}

// PAM message styles (internal/pamconst).
const (
	PromptEchoOff = pamconst.PromptEchoOff
	PromptEchoOn  = pamconst.PromptEchoOn
	ErrorMsg      = pamconst.ErrorMsg
	TextInfo      = pamconst.TextInfo
)

// PAM items the helper may get or set: the string items the shim serves
// (internal/pamconst).
const (
	ItemService     = pamconst.ItemService
	ItemUser        = pamconst.ItemUser
	ItemTTY         = pamconst.ItemTTY
	ItemRHost       = pamconst.ItemRHost
	ItemAuthtok     = pamconst.ItemAuthtok
	ItemOldAuthtok  = pamconst.ItemOldAuthtok
	ItemRUser       = pamconst.ItemRUser
	ItemUserPrompt  = pamconst.ItemUserPrompt
	ItemXDisplay    = pamconst.ItemXDisplay
	ItemAuthtokType = pamconst.ItemAuthtokType
)

// maxConv bounds the messages of one conversation (Linux-PAM's
// PAM_MAX_NUM_MSG).
const maxConv = pamconst.MaxNumMsg
