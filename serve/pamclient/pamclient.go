// Package pamclient runs the PAM transactions of the HTTP service
// (pam-accesscontrol serve): each login is a real pam_start through the
// named service, its authenticate and its account phase, with a
// conversation that never waits for a person (conv.go). Every transaction
// runs under a deadline and a bound on how many run at once; a PAM call
// that blocks past its deadline cannot be interrupted (it is C), so the
// request gives up and the call finishes in the background, still holding
// its place in the bound.
package pamclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/msteinert/pam/v2"
)

// Outcome is how a transaction ended.
type Outcome int

const (
	// Denied: the stack refused (wrong password, unknown user, the
	// account phase or the rules said no).
	Denied Outcome = iota
	// Success: authenticate and account both answered PAM_SUCCESS.
	Success
	// Challenge: the stack asked a prompt the request had no answer for.
	Challenge
)

// Result is what one transaction found.
type Result struct {
	Outcome  Outcome
	Phase    string    // the phase that ended it: "start", "authenticate", "account", "" on success
	Code     error     // the PAM error of that phase (a pam.Error), nil on success
	Prompts  []Prompt  // for Challenge: every prompt past the password, the unanswered one last
	Messages []Message // info and error messages, for the client
	// User is PAM_USER when the transaction succeeded: the account the
	// stack authenticated, which a module may have changed from the name
	// the client typed (a case-folding or mapping module)
	User string
}

var (
	// ErrBusy: as many transactions as allowed are running.
	ErrBusy = errors.New("too many PAM transactions at once")
	// ErrTimeout: the transaction did not end before the deadline; it
	// goes on in the background.
	ErrTimeout = errors.New("the PAM transaction did not end in time")
	// ErrGone: the client went away (the request's context ended)
	// before the transaction did; it goes on in the background.
	ErrGone = errors.New("the client went away before the PAM transaction ended")
)

// Client runs transactions through one service.
type Client struct {
	service string
	confDir string
	timeout time.Duration
	slots   chan struct{}
	start   starter
}

// Config says how a Client runs its transactions.
type Config struct {
	Service string        // the PAM service, a file in /etc/pam.d (or ConfDir)
	ConfDir string        // pam_start_confdir's directory; "" is the system's
	Timeout time.Duration // per transaction; at most this long a request waits
	Max     int           // transactions at once, those past their deadline included
}

// New returns a Client for cfg, refusing a config it cannot run.
func New(cfg Config) (*Client, error) {
	if cfg.Service == "" {
		return nil, errors.New("pamclient: no PAM service")
	}
	if cfg.Timeout <= 0 || cfg.Max <= 0 {
		return nil, errors.New("pamclient: the timeout and the number of transactions at once must be positive")
	}
	if cfg.ConfDir != "" && !pam.CheckPamHasStartConfdir() {
		return nil, errors.New("pamclient: this libpam has no pam_start_confdir (libpam 1.4 or later)")
	}
	return &Client{service: cfg.Service, confDir: cfg.ConfDir, timeout: cfg.Timeout,
		slots: make(chan struct{}, cfg.Max), start: startPAM}, nil
}

// Request is one login. Password and Answers are zeroed when the
// transaction ends (which may be after Authenticate returned): the caller
// must not use them again.
type Request struct {
	User     string
	RHost    string
	Password []byte
	Answers  [][]byte
}

// Authenticate runs pam_authenticate then pam_acct_mgmt for r.
func (c *Client) Authenticate(ctx context.Context, r Request) (Result, error) {
	conv := newConversation(r.Password, r.Answers)
	return c.run(ctx, r.User, r.RHost, conv, true)
}

// Account runs pam_acct_mgmt alone: whether the account may still log in
// (expiry, locks, the rules), for a token's renewal. No prompt is
// answered.
func (c *Client) Account(ctx context.Context, user, rhost string) (Result, error) {
	return c.run(ctx, user, rhost, newConversation(nil, nil), false)
}

func (c *Client) run(ctx context.Context, user, rhost string, conv *conversation, auth bool) (Result, error) {
	if err := cStrings(user, rhost, conv); err != nil {
		conv.close()
		return Result{Outcome: Denied, Phase: "start", Code: err}, nil
	}
	select {
	case c.slots <- struct{}{}:
	default:
		conv.close()
		return Result{}, ErrBusy
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	done := make(chan Result, 1)
	go func() {
		res := c.transaction(user, rhost, conv, auth)
		conv.close() // zeroed before the caller hears of the end
		<-c.slots
		done <- res
	}()
	select {
	case res := <-done:
		return res, nil
	case <-ctx.Done():
		conv.close() // later prompts fail at once, so the stack ends sooner
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Result{}, ErrTimeout
		}
		return Result{}, ErrGone
	}
}

// cStrings refuses a NUL byte where C would stop reading at it: "alice\x00x"
// would be pam_start's alice, a password with one would be checked as its
// beginning.
func cStrings(user, rhost string, conv *conversation) error {
	if strings.IndexByte(user, 0) >= 0 || strings.IndexByte(rhost, 0) >= 0 {
		return errors.New("a NUL byte in the user or the remote host")
	}
	if bytes.IndexByte(conv.password, 0) >= 0 {
		return errors.New("a NUL byte in the password")
	}
	for _, a := range conv.answers {
		if bytes.IndexByte(a, 0) >= 0 {
			return errors.New("a NUL byte in an answer")
		}
	}
	return nil
}

// transaction is one whole PAM transaction on one OS thread (modules may
// keep thread-local state between calls of a handle).
func (c *Client) transaction(user, rhost string, conv *conversation, auth bool) Result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	res := Result{Outcome: Denied}
	tx, err := c.start(c.service, user, conv, c.confDir)
	if err != nil {
		res.Phase, res.Code = "start", err
		return res
	}
	defer tx.End()
	if err := tx.SetItem(pam.Rhost, rhost); err != nil {
		res.Phase, res.Code = "start", fmt.Errorf("PAM_RHOST: %w", err)
		return res
	}
	if auth {
		if err := tx.Authenticate(pam.DisallowNullAuthtok); err != nil {
			return ended(res, "authenticate", err, conv)
		}
	}
	if err := tx.AcctMgmt(pam.DisallowNullAuthtok); err != nil {
		return ended(res, "account", err, conv)
	}
	// the account the stack decided for; a stack that lost it has not
	// told us whom it let in
	u, err := tx.GetItem(pam.User)
	if err != nil || u == "" {
		res.Phase, res.Code = "account", fmt.Errorf("PAM_USER after the account phase: %v", err)
		return res
	}
	res.Outcome, res.Messages, res.User = Success, conv.collected(), u
	return res
}

func ended(res Result, phase string, err error, conv *conversation) Result {
	res.Phase, res.Code, res.Messages = phase, err, conv.collected()
	if p := conv.challenge(); p != nil {
		res.Outcome, res.Prompts = Challenge, p
	}
	return res
}

// transactor is the part of *pam.Transaction a transaction uses; tests
// give a fake.
type transactor interface {
	SetItem(pam.Item, string) error
	GetItem(pam.Item) (string, error)
	Authenticate(pam.Flags) error
	AcctMgmt(pam.Flags) error
	End() error
}

type starter func(service, user string, conv *conversation, confDir string) (transactor, error)

// startPAM is pam_start (or pam_start_confdir) with conv as the
// conversation.
func startPAM(service, user string, conv *conversation, confDir string) (transactor, error) {
	h := pam.ConversationFunc(func(s pam.Style, msg string) (string, error) {
		return conv.respond(kindOf(s), msg)
	})
	if confDir != "" {
		return pam.StartConfDir(service, user, h, confDir)
	}
	return pam.Start(service, user, h)
}

func kindOf(s pam.Style) msgKind {
	switch s {
	case pam.PromptEchoOff:
		return echoOff
	case pam.PromptEchoOn:
		return echoOn
	case pam.ErrorMsg:
		return errorMsg
	case pam.TextInfo:
		return info
	}
	return binary
}
