package opa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// MaxPullFile bounds one pulled file.
const MaxPullFile = 1 << 20

// PullFile reads a JSON file the pull cycle asked for, if allowed lets it:
// the file, symbolic links resolved, must be one of allowed or under one
// of its directories (entries ending in "/", themselves resolved), a
// regular file owned by root that group and others cannot write, in
// directories only root can write, at most MaxPullFile bytes of valid
// JSON. pam_authz reads whatever the policy names; a policy server that
// was taken over must not read /etc/shadow through us.
func PullFile(path string, allowed []string) (any, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%q is not an absolute path", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", path, unwrapPath(err))
	}
	if !allowedPath(real, allowed) {
		if len(allowed) == 0 {
			return nil, fmt.Errorf("%q is not allowed: OPA_PULL_FILES allows no file", path)
		}
		shown := path
		if real != path {
			shown = fmt.Sprintf("%s (%s)", path, real)
		}
		return nil, fmt.Errorf("%q is not allowed: %s is not under OPA_PULL_FILES (%s)", path, shown, strings.Join(allowed, ","))
	}
	// NoFollow: real has no links left, and none may be put there now;
	// a FIFO planted there must not hang the login
	data, err := trust.ReadFile(real, MaxPullFile, trust.NoFollow)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%q is not JSON: %v", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%q holds more than one JSON value", path)
	}
	return v, nil
}

// allowedPath reports whether the resolved path real is an allowed file
// or under an allowed directory, the entries resolved too.
func allowedPath(real string, allowed []string) bool {
	for _, a := range allowed {
		dir := strings.HasSuffix(a, "/")
		r, err := filepath.EvalSymlinks(strings.TrimSuffix(a, "/"))
		if err != nil {
			continue
		}
		if dir && strings.HasPrefix(real, strings.TrimSuffix(r, "/")+"/") || !dir && real == r {
			return true
		}
	}
	return false
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
