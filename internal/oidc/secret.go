package oidc

import (
	"errors"
	"fmt"
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
	data, err := trust.ReadFile(path, maxSecret, trust.Private)
	if err != nil {
		return "", fmt.Errorf("OIDC_CLIENT_SECRET %v", err)
	}
	s := strings.TrimSpace(string(data))
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("OIDC_CLIENT_SECRET %s must hold the secret alone, on one line", path)
	}
	return s, nil
}
