package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pgp"
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
	// keyDirName holds PINGPG keys the admin installed: gpg/<user>.asc
	keyDirName = "gpg"
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
// addresses in login-mail-mapping.conf (encrypted to the user's OpenPGP
// key for PINGPG) and asks for it through the PAM conversation. Anything
// that goes wrong refuses the login, with the reason.
func (c *ruleCall) pin(cfg *rules.Config, login rules.Login, encrypt bool) (rules.Verdict, string) {
	m, err := rules.LoadMailMap(c.args.Conf, rules.LoginMailMappingFile, false)
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
	relay := mailRelay(cfg, m)
	if relay == "" {
		return rules.Close, "no MAILSERVER is set to mail the PIN through"
	}
	pin, err := c.mailPIN(cfg, login, relay, to, encrypt)
	if err != nil {
		return rules.Close, err.Error()
	}
	c.log.Info("%s: mailed a one-time PIN for %s to %d address(es) through %s (login %s)",
		c.call.Fn, logging.Quote(login.User), len(to), relay, c.loginID)

	silent := c.call.Flags&protocol.FlagSilent != 0
	if !silent {
		c.conn.Converse([]protocol.ConvMessage{{Style: protocol.TextInfo, Text: "A one-time PIN has been mailed to you."}})
	}
	for try := 1; try <= pinAttempts; try++ {
		typed, err := c.converse(protocol.PromptEchoOff, pinPrompt)
		if err != nil {
			return rules.Close, fmt.Sprintf("the PIN could not be asked for (%v): this application has no conversation here", err)
		}
		if pinMatches(typed, pin) {
			return rules.Open, fmt.Sprintf("the mailed PIN was typed (try %d of %d)", try, pinAttempts)
		}
		c.log.Info("%s: wrong PIN for %s, try %d of %d (login %s)", c.call.Fn, logging.Quote(login.User), try, pinAttempts, c.loginID)
		if !silent && try < pinAttempts {
			c.conn.Converse([]protocol.ConvMessage{{Style: protocol.ErrorMsg, Text: "Wrong PIN, try again."}})
		}
	}
	return rules.Close, fmt.Sprintf("a wrong PIN %d times; that PIN is void", pinAttempts)
}

// mailPIN draws a PIN and mails it (encrypted, for PINGPG), within the
// per-user limit.
func (c *ruleCall) mailPIN(cfg *rules.Config, login rules.Login, relay string, to []string, encrypt bool) (string, error) {
	done, err := newPinLimit(c.args.RunDir).take(login.User, time.Now())
	if err != nil {
		return "", fmt.Errorf("no PIN mailed: %w", err)
	}
	mailed := false
	defer func() { done(mailed) }()
	pin, err := newPIN()
	if err != nil {
		return "", fmt.Errorf("drawing a PIN: %w", err)
	}
	secret := pin
	if encrypt {
		if secret, err = c.encryptPIN(login.User, to, pin); err != nil {
			return "", fmt.Errorf("PINGPG: %w", err)
		}
	}
	n := mail.Notice{Kind: mail.PIN, Time: time.Now(), Service: login.Service, User: login.User, RHost: login.RHost, Secret: secret}
	if err := checkTrusted("MAIL_CA", cfg.Settings.MailCA); err != nil {
		return "", err
	}
	opts := mail.Options{From: cfg.Settings.MailFrom, StartTLS: cfg.Settings.MailStartTLS, CAFile: cfg.Settings.MailCA,
		Timeout: min(mailTimeout, decisionTimeout(c.args.Timeout))}
	if err := mail.Send(relay, opts, to, n); err != nil {
		return "", fmt.Errorf("mailing the PIN: %w", err)
	}
	mailed = true
	return pin, nil
}

// encryptPIN encrypts the PIN to the user's key: the one the admin put in
// gpg/<user>.asc (or .gpg) beside the config, else one from the user's
// own keyring, as the original used.
func (c *ruleCall) encryptPIN(name string, to []string, pin string) (string, error) {
	data, source, err := c.userKeys(name)
	if err != nil {
		return "", err
	}
	keys, err := pgp.ReadKeys(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", source, err)
	}
	key, err := pgp.Choose(keys, to)
	if err != nil {
		return "", fmt.Errorf("%s: %w", source, err)
	}
	c.log.Debug("PINGPG: encrypting to key %s from %s", pgp.Fingerprint(key), source)
	return pgp.EncryptArmored(key, pin)
}

func (c *ruleCall) userKeys(name string) ([]byte, string, error) {
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, "", fmt.Errorf("no key file can be named after user %s", logging.Quote(name))
	}
	dir := filepath.Join(filepath.Dir(confPath(c.args.Conf)), keyDirName)
	for _, ext := range []string{".asc", ".gpg"} {
		path := filepath.Join(dir, name+ext)
		data, err := rules.ReadTrusted(path)
		if err == nil {
			return data, path, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	data, err := exportKeyring(ctx, name)
	if err != nil {
		return nil, "", fmt.Errorf("no %s/%s.asc, and the user's own keyring: %w", dir, name, err)
	}
	return data, "the keyring of " + logging.Quote(name), nil
}

// exportKeyring runs gpg --export as the user, on the user's ~/.gnupg:
// gpg never runs as root on files the user controls.
func exportKeyring(ctx context.Context, name string) ([]byte, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil || u.HomeDir == "" {
		return nil, fmt.Errorf("user %s has no usable uid, gid or home", logging.Quote(name))
	}
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		return nil, err
	}
	home := filepath.Join(u.HomeDir, ".gnupg")
	cmd := exec.CommandContext(ctx, gpg, "--homedir", home, "--batch", "--no-tty", "--no-autostart", "--export")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + u.HomeDir, "GNUPGHOME=" + home}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true,
		Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	data, rerr := io.ReadAll(io.LimitReader(out, 4<<20))
	werr := cmd.Wait()
	switch {
	case rerr != nil:
		return nil, rerr
	case werr != nil:
		return nil, fmt.Errorf("gpg --export: %w", werr)
	case len(data) == 0:
		return nil, errors.New("it has no public key")
	}
	return data, nil
}

// confPath is the main config file the module uses.
func confPath(conf string) string {
	if conf == "" {
		return rules.DefaultPath
	}
	return conf
}
