package pamd

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Moving pam_python scripts to the module's interpreter= mode is one token
// on each script line: `pam_python.so` becomes `pam_accesscontrol.so
// interpreter=PATH`, the script and its arguments stay as they are. The
// other way round gives the line back byte for byte (a module named by
// path, /lib/security/pam_python.so, comes back as pam_python.so).

var (
	pythonModule = regexp.MustCompile(`^(\s*-?(?:auth|account|session|password)\s+(?:\[[^\]]*\]|\S+)\s+)(?:\S*/)?pam_python\.so(\s+\S)`)
	migrated     = regexp.MustCompile(`^(\s*-?(?:auth|account|session|password)\s+(?:\[[^\]]*\]|\S+)\s+)pam_accesscontrol\.so interpreter=\S+(\s+\S)`)
)

// MigratePython runs every pam_python script of a service file in
// interpreter (an absolute path) through our module. The Python
// original's own accesscontrol.py lines are left to Configure, which
// makes them rule lines. A script named so that the module would not take
// it for one (no "/", no .py or .star) is an error naming the line: its
// path must be written out first.
func MigratePython(text []byte, interpreter string) ([]byte, error) {
	var out []string
	for i, l := range lines(text) {
		if m := pythonModule.FindStringSubmatchIndex(l); m != nil && !pythonLine.MatchString(l) {
			script, _ := cutField(strings.TrimSpace(l[m[5]-1:]))
			if !isScript(script) {
				return nil, fmt.Errorf("line %d: the module takes %q for an option, not a script: write its path (%s) in the line first",
					i+1, script, filepath.Join("/lib/security", script))
			}
			l = pythonModule.ReplaceAllString(l, "${1}pam_accesscontrol.so interpreter="+interpreter+"${2}")
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "")), nil
}

// isScript is what the module takes for a script (is_script() in
// pam_accesscontrol.c): a path, or a name ending in .py or .star.
func isScript(arg string) bool {
	return strings.Contains(arg, "/") || strings.HasSuffix(arg, ".py") || strings.HasSuffix(arg, ".star")
}

// RestorePython undoes MigratePython.
func RestorePython(text []byte) []byte {
	var out []string
	for _, l := range lines(text) {
		out = append(out, migrated.ReplaceAllString(l, "${1}pam_python.so${2}"))
	}
	return []byte(strings.Join(out, ""))
}

// ruleLine reports whether l is one of our rule lines: the module with
// options only. A line that runs a script through it (a path, or a name
// ending in .py or .star, as the module itself tells them) is not.
func ruleLine(l string) (typ string, ok bool) {
	m := ourLine.FindStringSubmatch(l)
	if m == nil {
		return "", false
	}
	rest := l[len(m[0]):]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	for _, arg := range strings.Fields(rest) {
		if strings.Contains(arg, "=") || arg == "debug" || arg == "recursion" {
			continue
		}
		return "", false // a script and its argv
	}
	return m[1], true
}
