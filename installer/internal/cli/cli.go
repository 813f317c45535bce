// Package cli is what the pam-accesscontrol command's verbs share: the
// exit status of a command line that cannot be run, and config lines shown
// on the admin's terminal.
package cli

import (
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// ExitUsage is returned for a command line that cannot be run. It is not
// 0, 1 or 2, which explain uses for OPEN, CLOSE and ASK.
const ExitUsage = 64

// Lines shows the text of reported lines, reading each file once.
type Lines map[string][]string

// Get is the text of the line at pos, trimmed and made printable; "" when
// pos names no line or the file cannot be read.
func (c Lines) Get(pos rules.Pos) string {
	if pos.Line <= 0 {
		return ""
	}
	lines, ok := c[pos.File]
	if !ok {
		data, err := os.ReadFile(pos.File)
		if err == nil {
			lines = strings.Split(string(data), "\n")
		}
		c[pos.File] = lines
	}
	if pos.Line > len(lines) {
		return ""
	}
	return Printable(strings.TrimSpace(strings.TrimSuffix(lines[pos.Line-1], "\r")))
}

// Printable escapes what a terminal must not receive raw.
func Printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) < 0 && utf8.ValidString(s) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
