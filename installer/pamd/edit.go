// Package pamd edits PAM service files for pam-accesscontrol: it adds the
// module's auth, account and session lines where the stack runs them, and
// removes exactly those lines again. It works on bytes and leaves every
// other line as it was, so that cleaning a configured file gives back the
// original byte for byte.
package pamd

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Types are the stack types the module is added to, in file order.
var Types = []string{"auth", "account", "session"}

// Line is the module's line for a stack type.
func Line(typ string) string { return typ + "\trequired\tpam_accesscontrol.so" }

var (
	ourLine = regexp.MustCompile(`^\s*-?(auth|account|session|password)\s+(\S+|\[[^\]]*\])\s+(\S*/)?pam_accesscontrol\.so(\s|$)`)
	// the Python original's lines and the comment its installer wrote
	pythonLine    = regexp.MustCompile(`^\s*-?(auth|account|session|password)\s+(\S+|\[[^\]]*\])\s+(\S*/)?pam_python\.so\s+(\S*/)?accesscontrol\.py(\s|$)`)
	pythonComment = regexp.MustCompile(`^#\s*PAM-ACCESSCONTROL configuration\s*$`)
	typeOf        = regexp.MustCompile(`^\s*-?(auth|account|session|password)\s`)
)

// lines splits text into lines that keep their line endings, so joining
// them gives the text back.
func lines(text []byte) []string {
	var out []string
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			out = append(out, string(text))
			break
		}
		out = append(out, string(text[:i+1]))
		text = text[i+1:]
	}
	return out
}

// Configured reports which stack types already have the module.
func Configured(text []byte) map[string]bool {
	have := map[string]bool{}
	for _, l := range lines(text) {
		if typ, ok := ruleLine(l); ok && !isTokenLine(l) {
			have[typ] = true
		}
	}
	return have
}

// Configure adds the module to each of Types that lacks it, where every
// path through the stack reaches it. It starts from where the line reads
// best (in place of the Python original's line of that type, else right
// after the type's `@include common-<type>`, else after the type's last
// line, else before the first line of a later type, else at the end) and
// moves it up, before the first module that could end the stack with
// success or jump over it (sufficient, binding, done, a jump, an include
// or @include of a file with such a module: name is the service's own
// name, resolve reads what it includes). A line of ours exactly as this
// package writes it that can be skipped is moved so; one an admin changed
// that can be skipped is an error that says why and what to change.
// Configuring twice changes nothing the second time.
func Configure(name string, text []byte, resolve Resolver) ([]byte, error) {
	ls := lines(text)
	if len(ls) > 0 && !strings.HasSuffix(ls[len(ls)-1], "\n") {
		ls[len(ls)-1] += "\n"
	}
	have := Configured(text)
	// the original's lines become ours, where they were
	var out []string
	for _, l := range ls {
		if pythonComment.MatchString(strings.TrimRight(l, "\n")) {
			continue
		}
		if m := pythonLine.FindStringSubmatch(l); m != nil {
			if !have[m[1]] {
				out = append(out, Line(m[1])+"\n")
				have[m[1]] = true
			}
			continue
		}
		out = append(out, l)
	}
	// a line exactly as we write it that can be skipped (placed by an
	// older release, or the original's line replaced) is moved; one an
	// admin changed is theirs to move (Skippable says so below)
	for _, typ := range Types {
		problems, err := Skippable(name, []byte(strings.Join(out, "")), resolve)
		if err != nil {
			return nil, err
		}
		for _, p := range problems {
			if i := p.Line - 1; strings.TrimRight(out[i], "\n") == Line(typ) {
				out = append(out[:i], out[i+1:]...)
				have[typ] = false
				break
			}
		}
	}
	for _, typ := range Types {
		if have[typ] {
			continue
		}
		units, err := expand(name, []byte(strings.Join(out, "")), typ, resolve)
		if err != nil {
			return nil, err
		}
		at := insertionPoint(out, typ)
		for at > 0 {
			if _, skipped := skipper(units, at); !skipped {
				break
			}
			at--
		}
		out = append(out[:at], append([]string{Line(typ) + "\n"}, out[at:]...)...)
	}
	result := []byte(strings.Join(out, ""))
	if problems, err := Skippable(name, result, resolve); err != nil {
		return nil, err
	} else if len(problems) > 0 {
		return nil, problems[0]
	}
	return result, nil
}

// SkipError says that a line of ours can be skipped, and by what.
type SkipError struct {
	Line    int    // 1-based, in the service file
	Text    string // our line
	By      string // the module that can skip it
	ByWhere string // its file:line
}

func (e *SkipError) Error() string {
	return fmt.Sprintf("line %d %q can be skipped: %q (%s) may end the stack with success or jump over it before it runs; "+
		"move our line above that one (or above the line that includes it)", e.Line, e.Text, e.By, e.ByWhere)
}

// Skippable checks every line of ours in a service file: each must run on
// every path through its stack.
func Skippable(name string, text []byte, resolve Resolver) ([]*SkipError, error) {
	var out []*SkipError
	units := map[string][]unit{}
	for i, l := range lines(text) {
		typ, ok := ruleLine(l)
		if !ok {
			continue
		}
		if _, ok := units[typ]; !ok {
			u, err := expand(name, text, typ, resolve)
			if err != nil {
				return nil, err
			}
			units[typ] = u
		}
		if u, skipped := skipper(units[typ], i); skipped {
			out = append(out, &SkipError{Line: i + 1, Text: strings.TrimSpace(l), By: u.text, ByWhere: u.where})
		}
	}
	return out, nil
}

// insertionPoint is the index before which typ's line goes.
func insertionPoint(ls []string, typ string) int {
	include := regexp.MustCompile(`^\s*@include\s+common-` + typ + `(-noninteractive)?\s*$`)
	last := -1
	for i, l := range ls {
		if include.MatchString(strings.TrimRight(l, "\n")) {
			return i + 1
		}
		if m := typeOf.FindStringSubmatch(l); m != nil && m[1] == typ {
			last = i
		}
	}
	if last >= 0 {
		return last + 1
	}
	// none of its type: before the first line of a type that runs later
	later := map[string][]string{"auth": {"account", "session", "password"}, "account": {"session", "password"}, "session": {"password"}}[typ]
	for i, l := range ls {
		if m := typeOf.FindStringSubmatch(l); m != nil && slices.Contains(later, m[1]) {
			return i
		}
		if m := regexp.MustCompile(`^\s*@include\s+common-(\w+)`).FindStringSubmatch(l); m != nil && slices.Contains(later, m[1]) {
			return i
		}
	}
	return len(ls)
}

// Clean removes the module's rule lines, and only them, and gives the
// pam_python script lines that MigratePython moved back to pam_python.so.
func Clean(text []byte) []byte {
	var out []string
	for _, l := range lines(RestorePython(text)) {
		if _, ours := ruleLine(l); !ours {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, ""))
}
