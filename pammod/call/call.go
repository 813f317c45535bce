// Package call runs one PAM call in rule mode (no script on the module
// line): it finds the user and the config, then
//
//	decide   reuse this login's decision, or let the rules decide;
//	complete a person finishes what the rules left pending (the desktop
//	         owner answers an ASK, the user types a mailed PIN), and a
//	         login let in under a NUMBER limit is counted again and
//	         recorded, under the NUMBER lock;
//	commit   log, audit, keep the decision for the login's later phases,
//	         and tell a refused user.
//
// Everything outside the helper process comes through interfaces (the PAM
// handle, the desktop owner's notifier, the PIN's mail, the clock) so each
// branch is tested without root, libpam or a bus.
package call

import (
	"context"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail/notice"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// PAM is the application's PAM handle, reached through the module.
type PAM interface {
	// GetUser is pam_get_user: PAM_USER, asking the application (and so
	// maybe the user) when it is not set yet.
	GetUser() (string, error)
	// Converse sends one message; a prompt returns the answer.
	Converse(style int, text string) (string, error)
	// LoginID is the login's correlation id that an earlier phase kept on
	// the handle ("" when none); KeepLoginID keeps one there. A later phase
	// in the same process, or in a child forked after the decision, finds
	// it; a new handle at a reused address does not. (A version 1 module
	// costs a round trip for each; version 2 carries them in the call and
	// the result.)
	LoginID() (string, error)
	KeepLoginID(id string) error
	// GetEnv is pam_getenv: the PAM environment, for OPA's env_vars.
	GetEnv(name string) (value string, ok bool, err error)
	// GetItem and SetItem are pam_get_item and pam_set_item of a string
	// item: PAM_AUTHTOK, the password a TOKEN login is checked with.
	GetItem(item int32) (value string, ok bool, err error)
	SetItem(item int32, value string) error
}

// Logger is where the call's lines go (syslog, AUTHPRIV).
type Logger interface {
	// Decision is a decision's one line, with its journal fields.
	Decision(fields logging.Fields, format string, args ...any)
	Info(format string, args ...any)
	Error(format string, args ...any)
	Debug(format string, args ...any)
	SetDebug(on bool)
	Debugging() bool
}

// Asker reaches the owner of the local desktop.
type Asker interface {
	DesktopOwner(ctx context.Context) (logind.Desktop, bool, error)
	// Ask puts a question to uid's notifier. Its errors match
	// dbusapi.ErrUnanswered once the question went out, and
	// dbusapi.ErrWrongOwner when someone else holds the notifier's name.
	// The question goes to owner's notifier in owner's desktop session.
	Ask(ctx context.Context, owner logind.Desktop, q dbusapi.Request) (dbusapi.Decision, error)
	Inform(ctx context.Context, uid uint32, e dbusapi.Event) error
}

// PINSender mails a one-time PIN.
type PINSender interface {
	// Send mails the notice (its Secret is the PIN) to the addresses
	// through relay, encrypted to the user's OpenPGP key when encrypt.
	Send(ctx context.Context, cfg *rules.Config, n notice.Notice, relay string, to []string, encrypt bool) error
}

// Args are the module line's options that rule mode uses.
type Args struct {
	Conf    string        // the main rules file; "" for the default
	RunDir  string        // state between calls (loginstate)
	Spool   string        // the outbox's directory: what waits to be sent
	LogDir  string        // the original's monthly log
	Timeout time.Duration // the module's deadline for one call
	// TokenLine (tokenline=only|or-password) makes this the token line
	// of pam-configure --tokens, above the password modules; Tokens
	// (tokens=or-password) the decision line below them (token.go).
	TokenLine string
	Tokens    string

	// insecureSkipOwnerCheck lets unit tests that run as a user read
	// configs they own; nothing on a module line can set it.
	insecureSkipOwnerCheck bool
}

// Deps are what a call uses from outside.
type Deps struct {
	PAM    PAM
	Log    Logger
	Groups rules.Groups
	// Users names the login's user as NSS does (rules.ResolveUser), so
	// that rules match the account, not the client's spelling of it.
	Users    rules.Users
	Sessions rules.Sessions // systemd-logind, or utmp
	Asker    Asker
	PINs     PINSender
	// Identify names the login of the process pid (loginstate.Identifier).
	Identify func(pid int32, handle string) (loginstate.Login, error)
	// Alive says whether a process still runs (loginstate.Identifier):
	// the approval of a login counts only while that login's process does.
	Alive func(loginstate.Process) bool
	// Now is the clock; nil for the wall clock, which the run directory's
	// records then keep as their files' own mtime (no utimensat a record).
	Now func() time.Time
	// Configs keeps loaded configs between the calls a daemon serves; nil
	// loads the config anew (a helper run for one call).
	Configs *rules.Cache
	// Loaded, when set, is the call's config as the caller already loaded
	// it: the lean helper loads it to see whether it can run the call
	// (pammod/helper/lean.go), and the call runs under that very config.
	Loaded *rules.Config
	// Phases, when set, is told how long each phase of the call took.
	Phases Phases
	// Tokens makes the checker of TOKEN logins' tokens; nil for the
	// provider the OIDC_* settings name (NewTokenChecker).
	Tokens func(rules.OIDCSettings) (TokenChecker, error)
}

// Result is what the module gets, and what to start once it has it.
type Result struct {
	Code int32
	// Outbox is the outbox this call put messages in, for a deliverer to
	// send once the result is out; "" when none.
	Outbox string
}

// Run runs one PAM call. peerPID is the calling process as the kernel
// knows it (the helper's parent, or the daemon's peer), never the call's
// own word.
func Run(req protocol.Call, args Args, peerPID int32, deps Deps) Result {
	c := &call{req: req, args: args, peerPID: peerPID, Deps: deps, marked: time.Now(), storeClock: deps.Now}
	if c.Now == nil {
		c.Now = time.Now
	}
	code := c.run()
	return Result{Code: code, Outbox: c.outbox}
}

// call is the state of one PAM call.
type call struct {
	req     protocol.Call
	args    Args
	peerPID int32
	Deps

	cfg     *rules.Config // loaded once per call
	store   *loginstate.Store
	caller  loginstate.Login
	loginID string // the audit trail's correlation id of this login
	// account and pamUser are the login's user as NSS names it and as the
	// application gave it when that differs, once resolved, for the
	// audit events
	account, pamUser string
	outbox           string    // set when something was put in the outbox
	marked           time.Time // the end of the last phase (Phases)
	// storeClock is Deps.Now as given: nil tells the store it runs by
	// the wall clock.
	storeClock func() time.Time
}

func (c *call) run() int32 {
	switch c.req.Fn {
	case protocol.FnAuthenticate, protocol.FnAcctMgmt:
		if c.args.TokenLine != "" {
			return c.tokenLine()
		}
		return c.decide()
	case protocol.FnOpenSession:
		if c.args.TokenLine != "" {
			return protocol.PAMIgnore // the token line is auth's alone
		}
		code := c.decide()
		if code == protocol.PAMSuccess {
			c.openSession()
		}
		return code
	case protocol.FnCloseSession:
		c.closeSession()
		return protocol.PAMSuccess
	case protocol.FnChauthtok:
		return protocol.PAMIgnore // rules do not govern password changes
	}
	return protocol.PAMSuccess // setcred (answered by the shim itself), end
}

// decisionTimeout bounds one decision's work (NSS, logind) inside the
// module's own deadline, so that the helper answers, with a log line saying
// what was slow, rather than being killed.
func (c *call) decisionTimeout() time.Duration {
	return max(min(30*time.Second, c.args.Timeout-time.Second), time.Second/2)
}

// denyCode is CLOSE as docs/rules.md says: PAM_AUTH_ERR in auth,
// PAM_PERM_DENIED in account and session.
func (c *call) denyCode() int32 {
	if c.req.Fn == protocol.FnAuthenticate {
		return protocol.PAMAuthErr
	}
	return protocol.PAMPermDenied
}

func (c *call) silent() bool { return c.req.Flags&protocol.FlagSilent != 0 }

// loadConfig reads the config, once per call.
func (c *call) loadConfig() *rules.Config {
	if c.cfg == nil {
		opts := rules.LoadOptions{Path: c.args.Conf, InsecureSkipOwnerCheck: c.args.insecureSkipOwnerCheck}
		switch {
		case c.Loaded != nil:
			c.cfg = c.Loaded
		case c.Configs != nil:
			c.cfg, _ = c.Configs.Load(opts)
		default:
			c.cfg, _ = rules.Load(opts)
		}
		if c.cfg.Settings.Debug {
			c.Log.SetDebug(true)
		}
		if c.cfg.FirstReport() {
			c.reportProblems()
		}
	}
	return c.cfg
}

// reportProblems logs the config's problems, once per load (a daemon's
// cached config once, a helper's each call): a line that is ignored or
// refuses logins at error level, so that an admin finds a mistyped CLOSE
// line in the log without DEBUG:TRUE; a warning (a line used, maybe not as
// meant) at debug level.
func (c *call) reportProblems() {
	for _, p := range c.cfg.Problems {
		if p.Severity == rules.Warning {
			c.Log.Debug("config: %s", p)
		} else {
			c.Log.Error("config: %s", p)
		}
	}
}
