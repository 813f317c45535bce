//go:build !lean

package call

import (
	"context"
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
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// keyDirName holds PINGPG keys the admin installed, beside the main
// config: gpg/<user>.asc or .gpg.
const keyDirName = "gpg"

// MailPINs is the PINSender of the product: SMTP to the relay, the PIN
// encrypted to the user's key for PINGPG.
type MailPINs struct {
	Conf  string // the main config, beside which gpg/ is
	Debug func(format string, args ...any)
}

func (s MailPINs) Send(ctx context.Context, cfg *rules.Config, n mail.Notice, relay string, to []string, encrypt bool) error {
	if encrypt {
		secret, err := s.encrypt(ctx, n.User, to, n.Secret)
		if err != nil {
			return fmt.Errorf("PINGPG: %w", err)
		}
		n.Secret = secret
	}
	if err := CheckSettingFiles("MAIL_CA", cfg.Settings.MailCA); err != nil {
		return err
	}
	timeout := MailTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	opts := mail.Options{From: cfg.Settings.MailFrom, StartTLS: cfg.Settings.MailStartTLS, CAFile: cfg.Settings.MailCA, Timeout: timeout}
	if err := mail.Send(relay, opts, to, n); err != nil {
		return fmt.Errorf("mailing the PIN: %w", err)
	}
	return nil
}

// CheckSettingFiles refuses the files that settings name (a CA bundle, a
// key: setting, path, setting, path…) unless they are root's alone, as the
// rules themselves are checked.
func CheckSettingFiles(settingsAndPaths ...string) error {
	for i := 0; i+1 < len(settingsAndPaths); i += 2 {
		setting, path := settingsAndPaths[i], settingsAndPaths[i+1]
		if path == "" {
			continue
		}
		if err := trust.File(path); err != nil {
			return fmt.Errorf("%s %v", setting, err)
		}
	}
	return nil
}

// encrypt encrypts the PIN to the user's key: the one the admin put in
// gpg/<user>.asc (or .gpg) beside the config, else one from the user's
// own keyring, as the original used.
func (s MailPINs) encrypt(ctx context.Context, name string, to []string, pin string) (string, error) {
	data, source, err := s.userKeys(ctx, name)
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
	if s.Debug != nil {
		s.Debug("PINGPG: encrypting to key %s from %s", pgp.Fingerprint(key), source)
	}
	return pgp.EncryptArmored(key, pin)
}

func (s MailPINs) userKeys(ctx context.Context, name string) ([]byte, string, error) {
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, "", fmt.Errorf("no key file can be named after user %s", logging.Quote(name))
	}
	conf := s.Conf
	if conf == "" {
		conf = rules.DefaultPath
	}
	dir := filepath.Join(filepath.Dir(conf), keyDirName)
	for _, ext := range []string{".asc", ".gpg"} {
		path := filepath.Join(dir, name+ext)
		data, err := trust.ReadFile(path, rules.MaxFileSize)
		if err == nil {
			return data, path, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
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
