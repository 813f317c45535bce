// Package pycheck is check-script's linter: it reads a pam_python script
// and reports, all at once and each with its line, column and fix, what
// keeps it from running in the Starlark engine (rules/starhost), and the
// Python 2 lines that keep it from running under Python 3.
//
// Only the pam-accesscontrol command imports it: the helper, which runs
// scripts at every login, neither links its tables nor compiles its
// regular expressions at start (TestOnlyTheCLILinksIt).
//
// check.go is its interface; lines.go how it reads a script; analysis.go
// the pass over it; statements.go, expressions.go and python2.go the
// rules; fix.go the rewritten source; compile.go the Starlark compiler's
// own errors; report.go the findings.
package pycheck

import (
	"errors"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

// CheckScript reports everything in a Python script that the Starlark
// engine cannot run, in one pass: unsupported imports, constructs and
// library calls, Python 2 lines (with their Python 3 form), and every
// syntax and name error, each with its line, column and a fix where there
// is one. The error is non-nil when the script, as it is, does not compile.
func CheckScript(name string, src []byte) (findings []Finding, compileErr error) {
	a := analyze(string(src), true)
	fixed := applyEdits(a.src, a.edits)
	a.compileStarlark(name, fixed)
	if _, err := starhost.Compile(name, src); err != nil {
		compileErr = errors.New("does not compile yet")
		if len(a.findings) == 0 { // a safety net: never "does not compile" with nothing to show
			a.findings = append(a.findings, Finding{Line: 1, Col: 1, What: "compile", Why: err.Error()})
		}
	}
	return a.sorted(), compileErr
}

// PythonPlan is what a check under a real Python interpreter needs from
// the Go side: the Python 2 findings, the source with those lines in their
// Python 3 form (line for line, so positions stay true), the logical lines
// with the statement that can stand in for each when it does not compile,
// the top-level statements (to compile one by one, so that one error does
// not hide the next), and the imports seen by the tokenizer.
type PythonPlan struct {
	Findings []Finding
	Fixed    string
	Lines    []MaskLine
	Chunks   [][2]int // first and last physical line of each top-level statement
	Imports  []Import
}

// MaskLine is a logical line and a statement that compiles in its place.
type MaskLine struct {
	First, Last int
	Mask        string // with its indentation
}

// Import is one module an import statement names (its top-level package).
type Import struct {
	Line, Col int
	Module    string
}

// PlanPython prepares a check under a real Python: Python 2 lines are the
// only thing the Go side reports.
func PlanPython(src []byte) PythonPlan {
	a := analyze(string(src), false)
	p := PythonPlan{Findings: a.sorted(), Fixed: applyEdits(a.src, a.edits), Chunks: a.chunks()}
	for _, L := range a.lines {
		p.Lines = append(p.Lines, MaskLine{L.First, L.Last, L.Indent + a.mask(L, false)})
		if st := L.Tokens; len(st) > 0 && (st[0].Text == "import" || st[0].Text == "from") && st[0].Kind == pylex.Name {
			for _, s := range a.statements(L) {
				for _, m := range parseImport(s).modules {
					if m.level == 0 {
						p.Imports = append(p.Imports, Import{m.tok.Line, m.tok.Col, strings.SplitN(m.name, ".", 2)[0]})
					}
				}
			}
		}
	}
	return p
}
