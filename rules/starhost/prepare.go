package starhost

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

// modules are what a script may import; each is predeclared under its
// name and reachable as __modules__[name] for `import x as y` and
// `from x import y`.
var moduleNames = []string{"syslog", "pwd", "grp", "os", "os.path", "time", "json", "sys"}

// PrepareError is a line a script cannot have.
type PrepareError struct {
	File string
	Line int
	Msg  string
}

func (e *PrepareError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// prepare rewrites what pam_python scripts say and Starlark cannot parse:
// imports of the host's modules, and `is None` / `is not None` (also True
// and False). It works on pylex's tokens, so only code changes: a string
// or a comment that says "is None" or "import os" stays as written. Each
// rewrite stays on its line, so error positions stay true.
func prepare(file string, src []byte) ([]byte, error) {
	text := string(src)
	toks := code(pylex.Tokens(text))
	var b strings.Builder
	done := 0 // text[:done] is written
	replace := func(off, end int, with string) {
		b.WriteString(text[done:off])
		b.WriteString(with)
		done = end
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case (t.IsName("import") || t.IsName("from")) && (i == 0 || toks[i-1].Kind == pylex.Newline):
			j := i
			for toks[j].Kind != pylex.Newline {
				j++ // Tokens ends every logical line in a Newline
			}
			with, err := importStatement(file, toks[i:j])
			if err != nil {
				return nil, err
			}
			if with != "" {
				// up to the line break: a comment after an import goes with it
				end := toks[j].Off
				if end > 0 && text[end-1] == '\r' {
					end--
				}
				replace(t.Off, end, with)
			}
			i = j
		case t.IsName("is") && i+1 < len(toks):
			op, last := "==", toks[i]
			if toks[i+1].IsName("not") {
				op, last = "!=", toks[i+1]
			}
			k := i + 1
			if op == "!=" {
				k++
			}
			if k >= len(toks) || !toks[k].IsName("None") && !toks[k].IsName("True") && !toks[k].IsName("False") {
				continue // Starlark reports it; check-script says what to write
			}
			if last.Line == t.Line {
				replace(t.Off, last.End, op)
			} else { // `is \` + newline + `not None`: keep the line break
				replace(t.Off, t.End, op)
				replace(last.Off, last.End, "")
			}
			i = k
		}
	}
	b.WriteString(text[done:])
	return []byte(b.String()), nil
}

// code drops comments and NL tokens: what is left is code, and the
// Newlines that end its logical lines.
func code(toks []pylex.Token) []pylex.Token {
	out := toks[:0]
	for _, t := range toks {
		if t.Kind != pylex.Comment && t.Kind != pylex.NL {
			out = append(out, t)
		}
	}
	return out
}

// importStatement is what stands for an import statement of the host's
// modules: `pass`, or assignments from __modules__. It is "" for a
// statement it cannot read, which Starlark then reports (`import` is a
// reserved word there).
func importStatement(file string, s []pylex.Token) (string, error) {
	line := s[0].Line
	for _, t := range s {
		switch {
		case t.IsOp(";"):
			return "", &PrepareError{file, line, "an import must be alone on its line here: one import statement per line"}
		case t.Line != line:
			return "", &PrepareError{file, line, "an import must fit on one line here"}
		}
	}
	if s[0].IsName("import") {
		var assigns []string
		for _, part := range commaParts(s[1:]) {
			name, rest := moduleName(part)
			as := ""
			switch {
			case name == "":
				return "", nil
			case len(rest) == 2 && rest[0].IsName("as") && rest[1].Kind == pylex.Name:
				as = rest[1].Text
			case len(rest) != 0:
				return "", nil
			}
			if !Importable(name) {
				return "", unknownModule(file, line, name)
			}
			if as != "" {
				assigns = append(assigns, fmt.Sprintf("%s = __modules__[%q]", as, name))
			}
		}
		if len(assigns) == 0 {
			return "pass", nil
		}
		return strings.Join(assigns, "; "), nil
	}
	module, rest := moduleName(s[1:])
	if module == "" || len(rest) < 2 || !rest[0].IsName("import") {
		return "", nil
	}
	if !Importable(module) {
		return "", unknownModule(file, line, module)
	}
	names := rest[1:]
	if names[0].IsOp("(") && names[len(names)-1].IsOp(")") {
		names = names[1 : len(names)-1]
	}
	var assigns []string
	for _, part := range commaParts(names) {
		switch {
		case len(part) == 0:
			continue
		case len(part) == 1 && part[0].IsOp("*"):
			return "", &PrepareError{file, line, "`from " + module + " import *` is not supported: name what you use"}
		case part[0].Kind != pylex.Name:
			return "", nil
		}
		name, as := part[0].Text, part[0].Text
		switch {
		case len(part) == 3 && part[1].IsName("as") && part[2].Kind == pylex.Name:
			as = part[2].Text
		case len(part) != 1:
			return "", nil
		}
		assigns = append(assigns, fmt.Sprintf("%s = __modules__[%q].%s", as, module, name))
	}
	if len(assigns) == 0 {
		return "", nil
	}
	return strings.Join(assigns, "; "), nil
}

// commaParts cuts tokens at commas.
func commaParts(toks []pylex.Token) [][]pylex.Token {
	var parts [][]pylex.Token
	start := 0
	for i, t := range toks {
		if t.IsOp(",") {
			parts = append(parts, toks[start:i])
			start = i + 1
		}
	}
	return append(parts, toks[start:])
}

// moduleName reads a module name, a.b.c, or a relative one (.a, ..b), and
// returns what follows it.
func moduleName(toks []pylex.Token) (string, []pylex.Token) {
	var b strings.Builder
	i := 0
	for i < len(toks) && (toks[i].IsOp(".") || toks[i].IsOp("...")) {
		b.WriteString(toks[i].Text)
		i++
	}
	for i < len(toks) && toks[i].Kind == pylex.Name && !toks[i].IsName("import") && !toks[i].IsName("as") {
		b.WriteString(toks[i].Text)
		i++
		if i+1 < len(toks) && toks[i].IsOp(".") {
			b.WriteString(".")
			i++
			continue
		}
		break
	}
	return b.String(), toks[i:]
}

// ModuleNames are the modules a script may import.
func ModuleNames() []string { return slices.Clone(moduleNames) }

// Importable reports whether a script may import the module.
func Importable(name string) bool {
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
