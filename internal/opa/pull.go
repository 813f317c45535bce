package opa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
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
	// O_NOFOLLOW: real has no links left, and none may be put there now;
	// O_NONBLOCK: a FIFO planted there must not hang the login
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", path, unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular() || !ok:
		return nil, fmt.Errorf("%q is not a regular file", path)
	case st.Uid != 0:
		return nil, fmt.Errorf("%q is owned by uid %d, not root", path, st.Uid)
	case fi.Mode().Perm()&0o022 != 0:
		return nil, fmt.Errorf("%q is writable by group or others (mode %04o)", path, fi.Mode().Perm())
	}
	if err := rules.CheckTrusted(real); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPullFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxPullFile {
		return nil, fmt.Errorf("%q is larger than %d KiB", path, MaxPullFile>>10)
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
