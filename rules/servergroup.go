package rules

import "fmt"

// DefaultServerGroup is the server group of a config without SERVER_GROUP,
// as LemonLDAP::NG's PAM module names it: a central policy written for
// LLNG's groups falls back to the same one.
const DefaultServerGroup = "default"

// maxServerGroup bounds a server group's name.
const maxServerGroup = 64

// CheckServerGroup reports why s cannot be a SERVER_GROUP: a name of 1 to
// 64 letters, digits, '.', '_' and '-', starting with a letter or digit,
// so that a policy can use it as a key and a log line shows it as it is.
func CheckServerGroup(s string) error {
	if s == "" || len(s) > maxServerGroup {
		return fmt.Errorf("a name of 1 to %d characters, not %q", maxServerGroup, s)
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return fmt.Errorf("%q: a name of letters, digits, '.', '_' and '-', starting with a letter or digit, like production or web-eu", s)
		}
	}
	return nil
}
