package pycheck

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Findings: what is reported, and in which order.

// Finding is a place in a Python script that cannot run as it is: its
// line and column (1-based), what it is, why, and how to write it instead.
type Finding struct {
	Line, Col int
	What      string // "try/except", "Python 2", "syntax", "import"…
	Why       string // one line
	Fix       string // the replacement, or how to port it; "" when there is none
	Py2       bool   // Python 2 only: real Python 3 rejects it too
	Guarded   bool   // a Python 2 name under try: or a test of the Python version: Python 3 may never run it
	Warning   bool   // it runs, but check it
}

func (f Finding) String() string {
	s := fmt.Sprintf("%d:%d: ", f.Line, f.Col)
	if f.Warning {
		s += "warning: "
	}
	s += f.What + ": " + f.Why
	if f.Fix != "" {
		s += "; fix: " + f.Fix
	}
	return s
}

func (a *analysis) add(f Finding) { a.findings = append(a.findings, f) }

// py2 reports a Python 2 line: in both modes.
func (a *analysis) py2(t token, why, fix string) {
	a.add(Finding{Line: t.Line, Col: t.Col, What: "Python 2", Why: why, Fix: fix, Py2: true})
}

// py2name reports a Python 2 module, builtin or method: Python 3 compiles
// it, and fails only when it runs.
func (a *analysis) py2name(t token, why, fix string) {
	a.add(Finding{Line: t.Line, Col: t.Col, What: "Python 2", Why: why, Fix: fix, Py2: true, Guarded: a.guarded})
}

// sla reports what the Starlark engine cannot run; nothing in Python mode.
func (a *analysis) sla(t token, what, why, fix string) {
	if a.sl {
		a.add(Finding{Line: t.Line, Col: t.Col, What: what, Why: why, Fix: fix})
	}
}

// short is source for a message: on one line, not too long.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 72 {
		r := []rune(s)
		s = string(r[:70]) + "…"
	}
	return s
}

func (a *analysis) sorted() []Finding {
	f := append([]Finding(nil), a.findings...)
	sort.SliceStable(f, func(i, j int) bool {
		if f[i].Line != f[j].Line {
			return f[i].Line < f[j].Line
		}
		return f[i].Col < f[j].Col
	})
	return f
}

func (a *analysis) reportedLine(line int) bool {
	for _, f := range a.findings {
		if f.Line == line {
			return true
		}
	}
	return false
}
