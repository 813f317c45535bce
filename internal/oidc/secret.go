package oidc

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// maxSecret bounds a client secret file.
const maxSecret = 4096

// ReadSecret reads OIDC_CLIENT_SECRET's file: root's (trust.ReadFile),
// read by no one else (whoever reads it can introspect as us, and with
// some providers mint tokens), one line. The secret itself never appears
// in an error.
func ReadSecret(path string) (string, error) {
	if path == "" {
		return "", errors.New("OIDC_CLIENT_SECRET is not set")
	}
	data, err := trust.ReadFile(path, maxSecret)
	if err != nil {
		return "", fmt.Errorf("OIDC_CLIENT_SECRET %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("OIDC_CLIENT_SECRET %v", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("OIDC_CLIENT_SECRET %s is readable by group or others (mode %04o): make it 0600 root's", path, fi.Mode().Perm())
	}
	s := strings.TrimSpace(string(data))
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("OIDC_CLIENT_SECRET %s must hold the secret alone, on one line", path)
	}
	return s, nil
}
