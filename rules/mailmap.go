package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
)

// The original's mail files, beside the main config.
const (
	// MailNotificationFile: `SERVICE address,address` — who is mailed
	// when a session of that PAM service opens or closes.
	MailNotificationFile = "mail-notification.conf"
	// LoginMailMappingFile: `USER address,address` — where a user's
	// one-time PIN goes.
	LoginMailMappingFile = "login-mail-mapping.conf"
)

// MailMap is one of those files: names (a PAM service or a user) to mail
// addresses. As in the original, the name is matched case-insensitively
// and the lines of one name add up.
type MailMap struct {
	Path     string
	Server   string // a SERVER: or MAILSERVER: line (the original's man page); "" when none
	Problems []Problem
	entries  map[string][]string // upper-cased name -> addresses, in order, without repeats
}

// Lookup returns the addresses for name.
func (m *MailMap) Lookup(name string) []string {
	if m == nil {
		return nil
	}
	return m.entries[strings.ToUpper(name)]
}

// Empty reports whether the file names no one.
func (m *MailMap) Empty() bool { return m == nil || len(m.entries) == 0 }

// Recipients returns who is mailed about a session of service: its own
// line and an ALL line (an addition: the original had one line per
// service).
func (m *MailMap) Recipients(service string) []string {
	to := slices.Clone(m.Lookup(service))
	for _, a := range m.Lookup(AllGroups) {
		if !slices.Contains(to, a) {
			to = append(to, a)
		}
	}
	return to
}

// ErrNoMailMap: the file does not exist, which means "no mails", not an
// error.
var ErrNoMailMap = errors.New("no such file")

// LoadMailMap reads name from beside the main config file confPath. A
// file that exists but is not trusted (owner, mode, as for the rules) or
// unreadable is an error: a user who could edit it could have another
// user's PIN mailed to themselves.
func LoadMailMap(confPath, name string, skipOwner bool) (*MailMap, error) {
	if confPath == "" {
		confPath = DefaultPath
	}
	path := filepath.Join(filepath.Dir(confPath), name)
	data, err := readTrusted(path, skipOwner)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoMailMap
	}
	if err != nil {
		return nil, err
	}
	return ParseMailMap(path, data), nil
}

// ParseMailMap reads the lines of a mail file: comments and blank lines
// as in the rules, `SERVER:host` or `MAILSERVER:host`, and `NAME LIST`.
// A bad line or address is skipped and reported with its line.
func ParseMailMap(path string, data []byte) *MailMap {
	m := &MailMap{Path: path, entries: map[string][]string{}}
	problem := func(line int, format string, args ...any) {
		m.Problems = append(m.Problems, Problem{Pos: Pos{File: path, Line: line}, Severity: Ignored,
			Message: fmt.Sprintf(format, args...)})
	}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line := stripComment(strings.TrimSuffix(string(raw), "\r"))
		if line == "" {
			continue
		}
		fields := strings.FieldsFunc(line, isBlank)
		if len(fields) == 1 {
			key, value, ok := strings.Cut(fields[0], ":")
			switch k := strings.ToUpper(key); {
			case ok && (k == "SERVER" || k == "MAILSERVER"):
				if err := checkMailServer(value); err != nil {
					problem(n, "%s: %v", k, err)
					continue
				}
				m.Server = value
			default:
				problem(n, "want a name and a comma-separated list of mail addresses, as in `SSHD admin@example.org`")
			}
			continue
		}
		if len(fields) != 2 {
			problem(n, "want exactly two fields, a name and a comma-separated list of mail addresses (no blanks in the list)")
			continue
		}
		key := strings.ToUpper(fields[0])
		for _, addr := range splitList(fields[1]) {
			if !plainAddress(addr) {
				problem(n, "%q is not a plain mail address like admin@example.org; skipped", addr)
				continue
			}
			if !slices.Contains(m.entries[key], addr) {
				m.entries[key] = append(m.entries[key], addr)
			}
		}
	}
	return m
}

// plainAddress accepts local@domain and nothing that could carry a second
// header or recipient.
func plainAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s, "@") &&
		!strings.ContainsAny(s, "<>\"(),;:\\ \t\r\n")
}
