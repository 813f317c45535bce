package pamscript

import "github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"

// pamConstants are the 68 names pam_python puts on pamh, with Linux-PAM's
// values (docs/pam_python.md, "Constants"), from internal/pamconst.
var pamConstants = func() map[string]int {
	m := map[string]int{}
	for _, c := range pamconst.All() {
		m[c.Name] = c.Value
	}
	return m
}()
