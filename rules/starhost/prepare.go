// Package starhost runs Starlark for pam-accesscontrol: rule plugins
// (plugins/<name>.star's decide(ctx)) and, later, pam_python scripts. It
// prepares Python-shaped source for Starlark, provides the host modules,
// and bounds every run in steps and time, so a hostile or broken script
// costs a login, never a hang.
package starhost

import (
	"fmt"
	"regexp"
	"strings"
)

// modules are what a script may import; each is predeclared under its
// name and reachable as __modules__[name] for `import x as y` and
// `from x import y`.
var moduleNames = []string{"syslog", "pwd", "grp", "os", "os.path", "time", "json", "sys"}

var (
	importRe     = regexp.MustCompile(`^(\s*)import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)\s*(#.*)?$`)
	fromImportRe = regexp.MustCompile(`^(\s*)from\s+([\w.]+)\s+import\s+(.+?)\s*(#.*)?$`)
	isNotRe      = regexp.MustCompile(`\bis\s+not\s+(None|True|False)\b`)
	isRe         = regexp.MustCompile(`\bis\s+(None|True|False)\b`)
)

// PrepareError is a line a script cannot have.
type PrepareError struct {
	File string
	Line int
	Msg  string
}

func (e *PrepareError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// prepare rewrites, line for line so that error positions stay true, what
// pam_python scripts say and Starlark cannot parse: imports of the host's
// modules, and `is None` / `is not None` (also True and False).
func prepare(file string, src []byte) ([]byte, error) {
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		if m := importRe.FindStringSubmatch(line); m != nil {
			var assigns []string
			for _, part := range strings.Split(m[2], ",") {
				f := strings.Fields(part)
				name, as := f[0], ""
				if len(f) == 3 {
					as = f[2]
				}
				if !known(name) {
					return nil, unknownModule(file, i+1, name)
				}
				if as != "" {
					assigns = append(assigns, fmt.Sprintf("%s = __modules__[%q]", as, name))
				}
			}
			lines[i] = m[1] + strings.Join(assigns, "; ")
			if len(assigns) == 0 {
				lines[i] = m[1] + "pass"
			}
			continue
		}
		if m := fromImportRe.FindStringSubmatch(line); m != nil {
			if !known(m[2]) {
				return nil, unknownModule(file, i+1, m[2])
			}
			var assigns []string
			for _, part := range strings.Split(strings.Trim(m[3], "()"), ",") {
				f := strings.Fields(part)
				if len(f) == 0 {
					continue
				}
				name, as := f[0], f[0]
				if len(f) == 3 && f[1] == "as" {
					as = f[2]
				}
				if name == "*" {
					return nil, &PrepareError{file, i + 1, "`from " + m[2] + " import *` is not supported: name what you use"}
				}
				assigns = append(assigns, fmt.Sprintf("%s = __modules__[%q].%s", as, m[2], name))
			}
			lines[i] = m[1] + strings.Join(assigns, "; ")
			continue
		}
		line = isNotRe.ReplaceAllString(line, "!= $1")
		lines[i] = isRe.ReplaceAllString(line, "== $1")
	}
	return []byte(strings.Join(lines, "\n")), nil
}

func known(name string) bool {
	for _, n := range moduleNames {
		if n == name {
			return true
		}
	}
	return false
}

func unknownModule(file string, line int, name string) error {
	return &PrepareError{file, line, fmt.Sprintf("module %q is not available here (the host has %s)",
		name, strings.Join(moduleNames, ", "))}
}
