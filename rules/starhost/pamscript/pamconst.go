package pamscript

import "github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"

// pamConstants are the 68 names pam_python puts on pamh, with Linux-PAM's
// values (research/pam_python_api.md §2.6), from internal/pamconst.
var pamConstants = func() map[string]int {
	m := map[string]int{}
	for _, c := range pamconst.All() {
		m[c.Name] = c.Value
	}
	return m
}()
