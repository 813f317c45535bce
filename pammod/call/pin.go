package call

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail/notice"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// The one-time PIN: the original's length and alphabet, from the kernel's
// CSPRNG; a few tries, then the login is refused and the PIN forgotten.
const (
	pinLength   = 8
	pinAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	pinAttempts = 3
	pinPrompt   = "PIN: " // the original's prompt
	// MailTimeout bounds one mail: a PIN now, a session mail in the outbox.
	MailTimeout = 15 * time.Second
)

// newPIN draws pinLength characters of pinAlphabet uniformly (bytes that
// would bias the choice are drawn again).
func newPIN() (string, error) {
	const limit = 256 - 256%len(pinAlphabet)
	pin := make([]byte, 0, pinLength)
	buf := make([]byte, 16)
	for len(pin) < pinLength {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(pin) < pinLength {
				pin = append(pin, pinAlphabet[int(b)%len(pinAlphabet)])
			}
		}
	}
	return string(pin), nil
}

// pinMatches compares what the user typed with the PIN in constant time.
// Case and surrounding blanks do not matter: the alphabet has one case.
func pinMatches(typed, pin string) bool {
	t := strings.ToUpper(strings.TrimSpace(typed))
	return subtle.ConstantTimeCompare([]byte(t), []byte(pin)) == 1
}

// pin runs a PIN or PINGPG decision: it mails a fresh PIN to the user's
// addresses in login-mail-mapping.conf (encrypted for PINGPG) and asks for
// it through the PAM conversation. Anything that goes wrong refuses the
// login; the second result says what happened.
func (c *call) pin(login rules.Login, encrypt bool) (rules.Verdict, string) {
	m, err := rules.LoadMailMap(c.args.Conf, rules.LoginMailMappingFile, c.args.insecureSkipOwnerCheck)
	if errors.Is(err, rules.ErrNoMailMap) {
		return rules.Close, "there is no " + rules.LoginMailMappingFile + " to find the user's mail address in"
	}
	if err != nil {
		return rules.Close, err.Error()
	}
	to := m.Lookup(login.User)
	if len(to) == 0 {
		return rules.Close, fmt.Sprintf("%s has no mail address for %s", m.Path, logging.Quote(login.User))
	}
	relay := mailRelay(c.cfg, m)
	if relay == "" {
		return rules.Close, "no MAILSERVER is set to mail the PIN through"
	}
	pin, err := c.mailPIN(login, relay, to, encrypt)
	if err != nil {
		return rules.Close, err.Error()
	}
	c.Log.Info("%s: mailed a one-time PIN for %s to %d address(es) through %s (login %s)",
		c.req.Fn, logging.Quote(login.User), len(to), relay, c.loginID)

	if !c.silent() {
		c.PAM.Converse(protocol.TextInfo, "A one-time PIN has been mailed to you.")
	}
	for try := 1; try <= pinAttempts; try++ {
		typed, err := c.PAM.Converse(protocol.PromptEchoOff, pinPrompt)
		if err != nil {
			return rules.Close, fmt.Sprintf("the PIN could not be asked for (%v): this application has no conversation here", err)
		}
		if pinMatches(typed, pin) {
			return rules.Open, fmt.Sprintf("the mailed PIN was typed (try %d of %d)", try, pinAttempts)
		}
		c.Log.Info("%s: wrong PIN for %s, try %d of %d (login %s)", c.req.Fn, logging.Quote(login.User), try, pinAttempts, c.loginID)
		if !c.silent() && try < pinAttempts {
			c.PAM.Converse(protocol.ErrorMsg, "Wrong PIN, try again.")
		}
	}
	return rules.Close, fmt.Sprintf("a wrong PIN %d times; that PIN is void", pinAttempts)
}

// mailPIN draws a PIN and mails it, within the per-user limit.
func (c *call) mailPIN(login rules.Login, relay string, to []string, encrypt bool) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.decisionTimeout())
	defer cancel()
	done, err := c.store.TakePIN(ctx, login.User)
	if err != nil {
		return "", fmt.Errorf("no PIN mailed: %w", err)
	}
	mailed := false
	defer func() { done(mailed) }()
	pin, err := newPIN()
	if err != nil {
		return "", fmt.Errorf("drawing a PIN: %w", err)
	}
	if c.PINs == nil {
		return "", errors.New("no PIN can be mailed from here")
	}
	n := notice.Notice{Kind: notice.PIN, Time: c.Now(), Service: login.Service, User: login.User, RHost: login.RHost, Secret: pin}
	if err := c.PINs.Send(ctx, c.cfg, n, relay, to, encrypt); err != nil {
		return "", err
	}
	mailed = true
	return pin, nil
}

// mailRelay is MAILSERVER from the main config, or else the SERVER: line
// that the original's man page put in the mail file itself.
func mailRelay(cfg *rules.Config, m *rules.MailMap) string {
	if cfg != nil && cfg.Settings.MailServer != "" {
		return cfg.Settings.MailServer
	}
	return m.Server
}
