package pycheck

import (
	"errors"
	"regexp"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

// What the Starlark compiler itself reports: every syntax error, each
// top-level statement compiled alone, and every undefined name.

// mask is a statement that compiles in place of a logical line, for the
// Starlark engine (sl) or Python: a header keeps its kind, so the block
// under it still parses.
func (a *analysis) mask(L *logical, sl bool) string {
	toks := L.Tokens
	if toks[0].IsOp("@") {
		return ""
	}
	ki := 0
	if toks[0].IsName("async") && len(toks) > 1 {
		ki = 1
	}
	kw := toks[ki].Text
	if toks[ki].Kind != pylex.Name || !compoundKeywords[kw] {
		return "pass"
	}
	name := "_"
	if ki+1 < len(toks) && toks[ki+1].Kind == pylex.Name {
		name = toks[ki+1].Text
	}
	var h string
	switch {
	case kw == "def":
		h = "def " + name + "(*args, **kwargs):"
	case kw == "class" && sl:
		h = "def " + name + "():"
	case kw == "class":
		h = "class " + name + ":"
	case kw == "elif" && !sl:
		h = "elif True:"
	case kw == "else" && !sl:
		h = "else:"
	case kw == "for" || kw == "while":
		h = "while True:"
	case kw == "try" && !sl:
		h = "try:"
	case kw == "except" && !sl:
		h = "except Exception:"
	case kw == "finally" && !sl:
		h = "finally:"
	default:
		h = "if True:"
	}
	if c := headerColon(toks); c >= 0 && c < len(toks)-1 || !a.hasBlock(L) {
		h += " pass"
	}
	return h
}

// hasBlock reports whether the logical line after L is indented deeper.
func (a *analysis) hasBlock(L *logical) bool {
	return L.index+1 < len(a.lines) && a.lines[L.index+1].Width > L.Width
}

// chunks are the top-level statements as ranges of physical lines, each
// with the comments before it; a decorator and else/elif/except/finally
// stay with their statement.
func (a *analysis) chunks() [][2]int {
	n := strings.Count(a.src, "\n") + 1
	var starts []int
	for i, L := range a.lines {
		t := L.Tokens[0]
		if L.Width != 0 || t.IsName("else") || t.IsName("elif") || t.IsName("except") || t.IsName("finally") ||
			i > 0 && a.lines[i-1].Tokens[0].IsOp("@") {
			continue
		}
		starts = append(starts, L.First)
	}
	if len(starts) == 0 {
		return [][2]int{{1, n}}
	}
	starts[0] = 1
	var out [][2]int
	for i, s := range starts {
		end := n
		if i+1 < len(starts) {
			end = starts[i+1] - 1
		}
		out = append(out, [2]int{s, end})
	}
	return out
}

// compileStarlark compiles the fixed source as the Starlark engine would:
// each top-level statement alone, masking a line that does not parse and
// trying again, so every syntax error is found; then the whole file is
// resolved, which finds every undefined name at once.
func (a *analysis) compileStarlark(name, fixed string) {
	lines := strings.Split(fixed, "\n")
	lineOf := map[int]int{}
	for i, L := range a.lines {
		for p := L.First; p <= L.Last; p++ {
			lineOf[p] = i
		}
	}
	parse := func(src string) error {
		_, err := starhost.Parse(name, []byte(src))
		return err
	}
	report := func(line, col int, what, msg string) {
		if !a.reportedLine(line) {
			a.add(Finding{Line: line, Col: col, What: what, Why: msg})
		}
	}
	blankNames := func(from, to int) {
		for _, L := range a.lines {
			if L.First <= to && L.Last >= from {
				for _, t := range L.Tokens {
					if t.Kind == pylex.Name {
						a.extra[t.Text] = true
					}
				}
			}
		}
	}
	masked := map[int]bool{}
	if parse(fixed) != nil {
		for _, c := range a.chunks() {
			ok := false
			for tries := 0; tries < 20 && !ok; tries++ {
				err := parse(strings.Repeat("\n", c[0]-1) + strings.Join(lines[c[0]-1:c[1]], "\n"))
				if err == nil {
					ok = true
					break
				}
				line, col, what, msg := errorPos(err)
				report(min(max(line, c[0]), c[1]), col, what, msg)
				i, found := lineOf[line]
				if !found || masked[i] || line < c[0] || line > c[1] {
					break
				}
				masked[i] = true
				L := a.lines[i]
				blankNames(L.First, L.Last)
				lines[L.First-1] = L.Indent + a.mask(L, true)
				for p := L.First + 1; p <= L.Last; p++ {
					lines[p-1] = ""
				}
			}
			if !ok {
				blankNames(c[0], c[1])
				for p := c[0]; p <= c[1]; p++ {
					lines[p-1] = ""
				}
			}
		}
	}
	full := strings.Join(lines, "\n")
	f, err := starhost.Parse(name, []byte(full))
	if err != nil {
		line, col, what, msg := errorPos(err)
		report(line, col, what, msg)
		return
	}
	known := func(n string) bool { return starhost.IsPredeclared(n) || a.extra[n] }
	err = resolve.File(f, known, starlark.Universe.Has)
	var list resolve.ErrorList
	if !errors.As(err, &list) {
		return
	}
	before := len(a.findings)
	for _, e := range list {
		line, col := int(e.Pos.Line), int(e.Pos.Col)
		if m := undefinedRe.FindStringSubmatch(e.Msg); m != nil {
			dup := false
			for _, f := range a.findings[:before] {
				if f.Line == line && regexp.MustCompile(`\b`+m[1]+`\b`).MatchString(f.Why) {
					dup = true
				}
			}
			if !dup {
				why, fix := undefinedHint(m[1])
				a.add(Finding{Line: line, Col: col, What: "undefined", Why: why, Fix: fix})
			}
			continue
		}
		dup := false
		for _, f := range a.findings[:before] {
			dup = dup || f.Line == line
		}
		if !dup {
			a.add(Finding{Line: line, Col: col, What: "compile", Why: e.Msg})
		}
	}
}

var undefinedRe = regexp.MustCompile(`^undefined: (\w+)`)

func errorPos(err error) (line, col int, what, msg string) {
	var pe *starhost.PrepareError
	var se syntax.Error
	switch {
	case errors.As(err, &pe):
		return pe.Line, 1, "import", pe.Msg
	case errors.As(err, &se):
		return int(se.Pos.Line), int(se.Pos.Col), "syntax", se.Msg
	}
	return 1, 1, "compile", err.Error()
}

func undefinedHint(name string) (why, fix string) {
	why = name + " is not defined in the Starlark engine"
	switch {
	case name == "isinstance":
		return why, `type(x) == "string" ("int", "list", "dict"…)`
	case strings.HasSuffix(name, "Error") || strings.HasSuffix(name, "Exception") || name == "Warning":
		return why + ": there are no exceptions", catchFix
	case name == "__name__":
		return why, `drop the if __name__ == "__main__": block`
	case name == "map" || name == "filter":
		return why, "a list comprehension: [f(x) for x in xs if p(x)]"
	case name == "sum":
		return why, "a for loop"
	case name == "input" || name == "raw_input":
		return why + ": there is no terminal", "pamh.conversation(pamh.Message(pamh.PAM_PROMPT_ECHO_ON, \"…\"))"
	case name == "exit" || name == "quit":
		return why, "return a PAM code"
	case name == "iter" || name == "next":
		return why, "loop over the list"
	case name == "object" || name == "super" || name == "property" || name == "staticmethod" || name == "classmethod":
		return why, "functions, and dicts for data"
	}
	return why, ""
}
