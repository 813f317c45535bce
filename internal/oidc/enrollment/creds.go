package enrollment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// SystemdCreds is the name of the systemd-creds sealer in a record.
const SystemdCreds = "systemd-creds"

// credName is the credential's embedded name: systemd-creds refuses to
// decrypt a credential under another name, so a sealed blob copied from
// some other credential file cannot be passed off as our tokens.
const credName = "pam-accesscontrol-enrollment"

// credsTimeout bounds each run of systemd-creds (a TPM may be slow, never
// this slow).
const credsTimeout = 30 * time.Second

// Creds seals with systemd-creds(1): with the TPM2 and the host key
// (/var/lib/systemd/credential.secret) where there is a TPM2, with the
// host key alone where there is none (systemd's --with-key=auto). The
// host key is root's; the TPM2 ties the tokens to this machine as well.
// It needs no running systemd: systemd-creds encrypt works in a
// container or a chroot.
type Creds struct {
	// Path is the systemd-creds program; "" looks it up in PATH.
	Path string
	// WithKey is systemd-creds' --with-key; "" is auto.
	WithKey string
}

// Name implements Sealer.
func (Creds) Name() string { return SystemdCreds }

// Seal implements Sealer.
func (c Creds) Seal(plain []byte) ([]byte, error) {
	key := c.WithKey
	if key == "" {
		key = "auto"
	}
	return c.run(plain, "encrypt", "--with-key="+key, "--name="+credName, "-", "-")
}

// Unseal implements Sealer.
func (c Creds) Unseal(sealed []byte) ([]byte, error) {
	return c.run(sealed, "decrypt", "--name="+credName, "-", "-")
}

// Available says whether systemd-creds can seal here, and why not.
func (c Creds) Available() error {
	sealed, err := c.Seal([]byte("probe"))
	if err != nil {
		return err
	}
	plain, err := c.Unseal(sealed)
	if err != nil {
		return err
	}
	if string(plain) != "probe" {
		return errors.New("systemd-creds decrypt did not give back what was encrypted")
	}
	return nil
}

func (c Creds) run(in []byte, args ...string) ([]byte, error) {
	path := c.Path
	if path == "" {
		p, err := exec.LookPath("systemd-creds")
		if err != nil {
			return nil, fmt.Errorf("systemd-creds is not installed (systemd 250 or later): %w", err)
		}
		path = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), credsTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(lastLine(errOut.String()))
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("systemd-creds %s: %s", args[0], msg)
	}
	return out.Bytes(), nil
}

// lastLine drops systemd-creds' warnings (the host key "is not located on
// encrypted media") and keeps its error.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
