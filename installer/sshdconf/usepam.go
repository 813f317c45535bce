// Package sshdconf reads what of sshd's configuration decides whether our
// rules apply to sshd logins at all: UsePAM. With UsePAM no (OpenSSH's
// default; Debian, Fedora and openSUSE ship yes) sshd never calls PAM, and
// no line in /etc/pam.d/sshd is ever run.
//
// No other sshd setting is needed: the module learns the kind of each
// login from libpam (whether the application's last pam_authenticate
// succeeded) and, at the session, from SSH_AUTH_INFO_0, which sshd puts in
// the PAM environment whatever ExposeAuthInfo says.
package sshdconf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Main is sshd's configuration file, under the root.
const Main = "/etc/ssh/sshd_config"

// maxIncludes bounds Include's nesting, as sshd does (a loop of includes).
const maxIncludes = 16

// Setting is where sshd takes UsePAM from.
type Setting struct {
	On    bool
	Where string // file:line of the line that sets it; "" for OpenSSH's default (no)
}

// UsePAM reads UsePAM as sshd would: the first value given wins, Include
// lines are read where they stand (their globs relative to /etc/ssh), and
// a Match block cannot set it. found is false when there is no sshd
// configuration under root at all.
func UsePAM(root string) (s Setting, found bool, err error) {
	if _, err := os.Stat(filepath.Join(root, Main)); os.IsNotExist(err) {
		return Setting{}, false, nil
	}
	r := reader{root: root}
	set, err := r.file(Main, 0)
	if err != nil {
		return Setting{}, true, err
	}
	if set != nil {
		return *set, true, nil
	}
	return Setting{}, true, nil
}

type reader struct{ root string }

// file reads one file (a path as sshd sees it) for the first UsePAM.
func (r reader) file(path string, depth int) (*Setting, error) {
	if depth > maxIncludes {
		return nil, fmt.Errorf("%s: Include nested over %d deep", path, maxIncludes)
	}
	data, err := os.ReadFile(filepath.Join(r.root, path))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, value := splitKeyword(line)
		switch strings.ToLower(key) {
		case "match":
			return nil, nil // what follows is conditional, and cannot set UsePAM
		case "include":
			for _, pattern := range strings.Fields(value) {
				set, err := r.include(pattern, depth)
				if set != nil || err != nil {
					return set, err
				}
			}
		case "usepam":
			on := strings.EqualFold(strings.Trim(value, `"`), "yes")
			return &Setting{On: on, Where: fmt.Sprintf("%s:%d", path, n)}, nil
		}
	}
	return nil, sc.Err()
}

// include reads the files a glob names, in name order, as sshd does.
func (r reader) include(pattern string, depth int) (*Setting, error) {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join("/etc/ssh", pattern)
	}
	matches, err := filepath.Glob(filepath.Join(r.root, pattern))
	if err != nil {
		return nil, fmt.Errorf("Include %s: %w", pattern, err)
	}
	sort.Strings(matches)
	for _, m := range matches {
		rel, err := filepath.Rel(r.root, m)
		if err != nil {
			return nil, err
		}
		set, err := r.file("/"+rel, depth+1)
		if set != nil || err != nil {
			return set, err
		}
	}
	return nil, nil
}

// splitKeyword splits "Keyword value" and "Keyword=value".
func splitKeyword(line string) (string, string) {
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimLeft(line[i:], " \t=")
}

// Note is what an admin reads about sshd beside its PAM lines: whether
// sshd runs them at all, and that nothing else is to be set.
func Note(root string) (text string, warn bool) {
	s, found, err := UsePAM(root)
	switch {
	case !found:
		return "", false
	case err != nil:
		return fmt.Sprintf("sshd: warning: whether sshd uses PAM cannot be read: %v", err), true
	case !s.On && s.Where == "":
		return "sshd: warning: " + Main + " does not set UsePAM, and sshd's default is no: sshd never runs these lines, " +
			"so no rule applies to sshd logins. Set \"UsePAM yes\" there and restart sshd.", true
	case !s.On:
		return fmt.Sprintf("sshd: warning: UsePAM no (%s): sshd never runs these lines, so no rule applies to sshd logins. "+
			"Set \"UsePAM yes\" and restart sshd.", s.Where), true
	}
	return fmt.Sprintf("sshd: UsePAM yes (%s): sshd logins go through these lines. No other sshd setting is needed: "+
		"the module learns from libpam whether a password or keyboard-interactive authentication succeeded (SSHD rules) "+
		"or none did (SSHD-KEY rules), and at the session from sshd's SSH_AUTH_INFO_0.", s.Where), false
}
