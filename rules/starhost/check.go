package starhost

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

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

// CheckScript reports everything in a Python script that the Starlark
// engine cannot run, in one pass: unsupported imports, constructs and
// library calls, Python 2 lines (with their Python 3 form), and every
// syntax and name error, each with its line, column and a fix where there
// is one. The error is non-nil when the script, as it is, does not compile.
func CheckScript(name string, src []byte) (findings []Finding, compileErr error) {
	a := analyze(string(src), true)
	fixed := applyEdits(a.src, a.edits)
	a.compileStarlark(name, fixed)
	if _, err := Compile(name, src); err != nil {
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
		p.Lines = append(p.Lines, MaskLine{L.first, L.last, L.indentText + a.mask(L, false)})
		if st := L.toks; len(st) > 0 && (st[0].text == "import" || st[0].text == "from") && st[0].kind == tName {
			for _, s := range a.statements(L) {
				for _, m := range parseImport(s).modules {
					if m.level == 0 {
						p.Imports = append(p.Imports, Import{m.tok.line, m.tok.col, strings.SplitN(m.name, ".", 2)[0]})
					}
				}
			}
		}
	}
	return p
}

// ---------------------------------------------------------------- tokens

type tokKind int

const (
	tName tokKind = iota
	tNumber
	tString
	tOp
)

type token struct {
	kind      tokKind
	text      string
	off, end  int // bytes of src
	line, col int // 1-based; col in runes
	lineOff   int // where the token's line starts
	prefix    string
	quote     string
	bad       bool // an unterminated string
}

func (t token) op(text string) bool { return t.kind == tOp && t.text == text }
func (t token) kw(text string) bool { return t.kind == tName && t.text == text }

// logical is a logical line: its tokens, physical lines and indentation.
type logical struct {
	toks        []token
	first, last int
	indentText  string
	indent      int // tabs to multiples of 8, as Python and Starlark do
	index       int // in the file's logical lines
}

var ops3 = []string{"**=", "//=", ">>=", "<<=", "..."}
var ops2 = []string{"->", ":=", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "<>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@="}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
func isIdent(c byte) bool { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isStringPrefix(p string) bool {
	if len(p) > 2 {
		return false
	}
	lp := strings.ToLower(p)
	switch lp {
	case "r", "u", "b", "f", "br", "rb", "ur", "fr", "rf":
		return true
	}
	return false
}

// tokenize splits Python source into logical lines of tokens. Comments
// and the insides of strings are never taken for code.
func tokenize(src string) []*logical {
	var out []*logical
	var cur []token
	depth, line, lineOff := 0, 1, 0
	flush := func() {
		if len(cur) > 0 {
			ind := src[cur[0].lineOff:cur[0].off]
			end := cur[len(cur)-1]
			last := end.line + strings.Count(end.text, "\n")
			out = append(out, &logical{toks: cur, first: cur[0].line, last: last, indentText: ind, indent: indentWidth(ind), index: len(out)})
			cur = nil
		}
	}
	mk := func(kind tokKind, off, end int) token {
		return token{kind: kind, text: src[off:end], off: off, end: end, line: line,
			col: utf8.RuneCountInString(src[lineOff:off]) + 1, lineOff: lineOff}
	}
	i := 0
	if strings.HasPrefix(src, "\ufeff") {
		i = 3 // a UTF-8 byte order mark
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			if depth == 0 {
				flush()
			}
			i++
			line, lineOff = line+1, i
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\\' && strings.HasPrefix(src[i+1:], "\n"):
			i += 2
			line, lineOff = line+1, i
		case c == '\\' && strings.HasPrefix(src[i+1:], "\r\n"):
			i += 3
			line, lineOff = line+1, i
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			if j < len(src) && (src[j] == '"' || src[j] == '\'') && isStringPrefix(src[i:j]) {
				t := mk(tString, i, i)
				i = scanString(src, t.off, j, &t, &line, &lineOff)
				cur = append(cur, t)
				continue
			}
			if depth > 0 && statementKeywords[src[i:j]] && strings.TrimLeft(src[lineOff:i], " \t") == "" {
				// a bracket left open: no line inside one starts so
				flush()
				depth = 0
			}
			cur = append(cur, mk(tName, i, j))
			i = j
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			j := i + 1
			hex := c == '0' && j < len(src) && (src[j] == 'x' || src[j] == 'X')
			for j < len(src) {
				d := src[j]
				if isIdent(d) || d == '.' {
					j++
				} else if (d == '+' || d == '-') && !hex && (src[j-1] == 'e' || src[j-1] == 'E') {
					j++
				} else {
					break
				}
			}
			cur = append(cur, mk(tNumber, i, j))
			i = j
		case c == '"' || c == '\'':
			t := mk(tString, i, i)
			i = scanString(src, i, i, &t, &line, &lineOff)
			cur = append(cur, t)
		default:
			n := 1
			for _, o := range ops3 {
				if strings.HasPrefix(src[i:], o) {
					n = 3
				}
			}
			if n == 1 {
				for _, o := range ops2 {
					if strings.HasPrefix(src[i:], o) {
						n = 2
					}
				}
			}
			t := mk(tOp, i, i+n)
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				if depth > 0 {
					depth--
				}
			}
			cur = append(cur, t)
			i += n
		}
	}
	flush()
	return out
}

// scanString reads the string whose prefix starts at off and whose quote
// is at q; it fills t and returns where the string ends.
func scanString(src string, off, q int, t *token, line, lineOff *int) int {
	quote := src[q : q+1]
	if strings.HasPrefix(src[q:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	t.prefix, t.quote = src[off:q], quote
	i := q + len(quote)
	for {
		switch {
		case i >= len(src):
			t.bad = true
		case src[i] == '\\' && i+1 < len(src):
			if src[i+1] == '\n' {
				*line, *lineOff = *line+1, i+2
			}
			i += 2
			continue
		case strings.HasPrefix(src[i:], quote):
			i += len(quote)
		case src[i] == '\n' && len(quote) == 1:
			t.bad = true
		case src[i] == '\n':
			i++
			*line, *lineOff = *line+1, i
			continue
		default:
			i++
			continue
		}
		break
	}
	if i > len(src) {
		i = len(src)
	}
	t.end, t.text = i, src[off:i]
	return i
}

func indentWidth(s string) int {
	w := 0
	for _, c := range s {
		if c == '\t' {
			w = w/8*8 + 8
		} else {
			w++
		}
	}
	return w
}

// closing is the index of the bracket that closes toks[i], or -1.
func closing(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		if toks[j].kind != tOp {
			continue
		}
		switch toks[j].text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// opening is the index of the bracket that opens toks[i], or -1.
func opening(toks []token, i int) int {
	depth := 0
	for j := i; j >= 0; j-- {
		if toks[j].kind != tOp {
			continue
		}
		switch toks[j].text {
		case ")", "]", "}":
			depth++
		case "(", "[", "{":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// split cuts toks at the operator sep outside brackets.
func split(toks []token, sep string) [][]token {
	var parts [][]token
	depth, start := 0, 0
	for i, t := range toks {
		if t.kind != tOp {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case sep:
			if depth == 0 {
				parts = append(parts, toks[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, toks[start:])
}

// statementKeywords only start a statement: a line that starts with one
// is not inside brackets, whatever an earlier line left open.
var statementKeywords = map[string]bool{"def": true, "class": true, "import": true, "return": true, "pass": true,
	"raise": true, "global": true, "nonlocal": true, "del": true, "try": true, "with": true, "while": true, "assert": true,
	"break": true, "continue": true, "elif": true, "except": true, "finally": true}

var compoundKeywords = map[string]bool{"if": true, "elif": true, "else": true, "for": true, "while": true, "try": true,
	"except": true, "finally": true, "with": true, "def": true, "class": true, "async": true}

var pyKeywords = map[string]bool{"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true,
	"async": true, "await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true, "import": true,
	"in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true, "raise": true,
	"return": true, "try": true, "while": true, "with": true, "yield": true}

// headerColon is the index of the colon that ends a compound statement's
// header, or -1 for a line that is no compound statement.
func headerColon(toks []token) int {
	if len(toks) == 0 || toks[0].kind != tName || !compoundKeywords[toks[0].text] {
		return -1
	}
	depth, lambdas := 0, 0
	for i, t := range toks {
		switch {
		case t.kind == tOp && strings.ContainsAny(t.text, "([{") && len(t.text) == 1:
			depth++
		case t.kind == tOp && strings.ContainsAny(t.text, ")]}") && len(t.text) == 1:
			depth--
		case depth == 0 && t.kw("lambda"):
			lambdas++
		case depth == 0 && t.op(":"):
			if lambdas > 0 {
				lambdas--
				continue
			}
			return i
		}
	}
	return -1
}

// statements are the simple statements of a logical line: after a
// compound header's colon, cut at semicolons.
func (a *analysis) statements(L *logical) [][]token {
	toks := L.toks
	if c := headerColon(toks); c >= 0 {
		toks = toks[c+1:]
	} else if len(toks) > 0 && toks[0].kind == tName && compoundKeywords[toks[0].text] {
		return nil
	}
	var out [][]token
	for _, s := range split(toks, ";") {
		if len(s) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// ---------------------------------------------------------------- edits

type edit struct {
	off, end int
	text     string
	sl       bool // for the Starlark engine only
}

// applyEdits makes the edits, the earliest and widest first, dropping
// one that overlaps one made. A replaced span keeps its line breaks, so
// every line keeps its number.
func applyEdits(src string, edits []edit) string {
	es := append([]edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].off != es[j].off {
			return es[i].off < es[j].off
		}
		return es[i].end-es[i].off > es[j].end-es[j].off
	})
	var b strings.Builder
	last := 0
	for _, e := range es {
		if e.off < last {
			continue
		}
		b.WriteString(src[last:e.off])
		b.WriteString(e.text)
		if n := strings.Count(src[e.off:e.end], "\n") - strings.Count(e.text, "\n"); n > 0 {
			b.WriteString(strings.Repeat("\n", n))
		}
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String()
}

// ---------------------------------------------------------------- analysis

type analysis struct {
	src      string
	lines    []*logical
	sl       bool // the Starlark engine: report what only it cannot run
	findings []Finding
	edits    []edit
	bound    map[string]bool   // names the script binds itself
	assigned map[string]bool   // … other than by import
	imported map[string]string // name in the script → module, for the host's modules and string/urllib/itertools
	extra    map[string]bool   // names in lines the checker blanked: not reported as undefined
	later    []span
	guarded  bool // the line being read is under try: or a test of the Python version
}

func analyze(src string, starlark bool) *analysis {
	a := &analysis{src: src, lines: tokenize(src), sl: starlark, bound: map[string]bool{}, assigned: map[string]bool{},
		imported: map[string]string{}, extra: map[string]bool{}}
	a.collect()
	type frame struct {
		name     string
		indent   int
		reported bool
	}
	var defs []*frame
	blocks := map[int]string{} // the last compound keyword at each indentation
	type guard struct {
		indent int
		on     bool
	}
	var guards []guard
	versionTest := map[int]bool{} // an if at this indentation tests the Python version
	for _, L := range a.lines {
		toks := L.toks
		for len(defs) > 0 && L.indent <= defs[len(defs)-1].indent {
			defs = defs[:len(defs)-1]
		}
		for len(guards) > 0 && L.indent <= guards[len(guards)-1].indent {
			guards = guards[:len(guards)-1]
		}
		a.guarded = false
		for _, g := range guards {
			a.guarded = a.guarded || g.on
		}
		if headerColon(toks) >= 0 {
			on := false
			switch toks[0].text {
			case "try":
				on = true
			case "if":
				versionTest[L.indent] = versionRe.MatchString(a.text(toks))
				on = versionTest[L.indent]
			case "elif", "else":
				on = versionTest[L.indent]
			case "except": // the fallback of try: import x
				on = fallbackRe.MatchString(a.text(toks))
			}
			guards = append(guards, guard{L.indent, on})
		}
		kw := ""
		if toks[0].kind == tName && compoundKeywords[toks[0].text] {
			kw = toks[0].text
		}
		if kw == "async" && len(toks) > 1 {
			a.sla(toks[0], "async", "Starlark has no async/await", "drop async; the call runs to its end anyway")
			a.sledit(toks[0].off, toks[0].end, strings.Repeat(" ", len(toks[0].text)))
			kw = toks[1].text
		}
		prev := blocks[L.indent]
		for ind := range blocks {
			if ind > L.indent {
				delete(blocks, ind)
			}
		}
		if kw != "" {
			blocks[L.indent] = kw
		} else {
			delete(blocks, L.indent)
		}
		if toks[0].op("@") {
			a.sla(toks[0], "decorator", "Starlark has no decorators", "call it yourself after the def: f = decorator(f)")
			a.sledit(toks[0].off, toks[len(toks)-1].end, "")
			continue
		}
		a.header(L, kw, prev)
		for _, s := range a.statements(L) {
			a.statement(L, s)
		}
		a.expressions(L)
		if a.sl && len(defs) > 0 {
			for _, f := range defs {
				if f.reported {
					continue
				}
				for i, t := range toks {
					if t.kind == tName && t.text == f.name && i+1 < len(toks) && toks[i+1].op("(") &&
						(i == 0 || !toks[i-1].op(".") && !toks[i-1].kw("def")) {
						a.sla(t, "recursion", f.name+" calls itself, and recursion is off",
							"a while loop; or add `recursion` to the module line")
						f.reported = true
						break
					}
				}
			}
		}
		if kw == "def" && len(toks) > 1 {
			defs = append(defs, &frame{name: toks[1].text, indent: L.indent})
		}
	}
	a.renderFixes()
	return a
}

func (a *analysis) add(f Finding) { a.findings = append(a.findings, f) }

// py2 reports a Python 2 line: in both modes.
func (a *analysis) py2(t token, why, fix string) {
	a.add(Finding{Line: t.line, Col: t.col, What: "Python 2", Why: why, Fix: fix, Py2: true})
}

// py2name reports a Python 2 module, builtin or method: Python 3 compiles
// it, and fails only when it runs.
func (a *analysis) py2name(t token, why, fix string) {
	a.add(Finding{Line: t.line, Col: t.col, What: "Python 2", Why: why, Fix: fix, Py2: true, Guarded: a.guarded})
}

var fallbackRe = regexp.MustCompile(`\b(ImportError|ModuleNotFoundError|NameError|AttributeError)\b`)

var versionRe = regexp.MustCompile(`(?i)version|\bPY[23]|\bPY3K\b|\bPYTHON[23]\b`)

// sla reports what the Starlark engine cannot run; nothing in Python mode.
func (a *analysis) sla(t token, what, why, fix string) {
	if a.sl {
		a.add(Finding{Line: t.line, Col: t.col, What: what, Why: why, Fix: fix})
	}
}

func (a *analysis) edit(off, end int, text string) {
	a.edits = append(a.edits, edit{off, end, text, false})
}

// sledit is an edit for the Starlark engine only.
func (a *analysis) sledit(off, end int, text string) {
	if a.sl {
		a.edits = append(a.edits, edit{off, end, text, true})
	}
}

// fixLater makes the last finding's fix the statement from off to end as
// the Python 3 edits leave it, once every edit is known.
func (a *analysis) fixLater(off, end int) {
	a.later = append(a.later, span{len(a.findings) - 1, off, end})
}

type span struct{ finding, off, end int }

func (a *analysis) renderFixes() {
	for _, l := range a.later {
		var inside []edit
		for _, e := range a.edits {
			if !e.sl && e.off >= l.off && e.end <= l.end {
				inside = append(inside, edit{e.off - l.off, e.end - l.off, e.text, false})
			}
		}
		a.findings[l.finding].Fix = short(applyEdits(a.src[l.off:l.end], inside))
	}
}

func (a *analysis) text(toks []token) string {
	if len(toks) == 0 {
		return ""
	}
	return a.src[toks[0].off:toks[len(toks)-1].end]
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

// collect finds the names the script binds, and what it imports.
func (a *analysis) collect() {
	bind := func(n string) { a.bound[n], a.assigned[n] = true, true }
	for _, L := range a.lines {
		toks := L.toks
		for i, t := range toks {
			if t.kind != tName {
				continue
			}
			if i+1 < len(toks) && toks[i+1].op("=") {
				bind(t.text)
			}
			if i > 0 && (toks[i-1].kw("def") || toks[i-1].kw("class") || toks[i-1].kw("as") && !toks[0].kw("import") && !toks[0].kw("from")) {
				bind(t.text)
			}
			if t.kw("for") {
				for j := i + 1; j < len(toks) && !toks[j].kw("in"); j++ {
					if toks[j].kind == tName {
						bind(toks[j].text)
					}
				}
			}
			if t.kw("lambda") {
				for j := i + 1; j < len(toks) && !toks[j].op(":"); j++ {
					if toks[j].kind == tName {
						bind(toks[j].text)
					}
				}
			}
		}
		if toks[0].kw("def") && len(toks) > 2 && toks[2].op("(") {
			end := closing(toks, 2)
			for j := 3; j < end; j++ {
				if p := toks[j-1]; toks[j].kind == tName && (p.op("(") || p.op(",") || p.op("*") || p.op("**")) {
					bind(toks[j].text)
				}
			}
		}
		for _, s := range a.statements(L) {
			if !s[0].kw("import") && !s[0].kw("from") {
				continue
			}
			im := parseImport(s)
			for _, m := range im.modules {
				if m.as != "" {
					a.imported[m.as] = m.name
				}
			}
			if im.from && len(im.modules) == 1 {
				for k, n := range im.names {
					a.imported[im.binds[k]] = im.modules[0].name + "." + n.text
				}
			}
			for _, n := range im.binds {
				a.bound[n] = true
			}
		}
	}
}

type importedModule struct {
	tok   token
	name  string // dotted
	as    string // the name it is bound to, "" when it binds a package only
	level int    // leading dots of a relative import
}

type importStmt struct {
	from    bool
	modules []importedModule
	names   []token  // from … import NAMES
	binds   []string // every name the statement binds
	star    bool
}

// parseImport reads `import a.b as c, d` or `from a import b as c, (d)`.
func parseImport(s []token) importStmt {
	var im importStmt
	if s[0].kw("import") {
		for _, part := range split(s[1:], ",") {
			if len(part) == 0 {
				continue
			}
			name, _, _ := dotted(part, 0)
			if name == "" {
				continue
			}
			m := importedModule{tok: part[0], name: name}
			if k := len(part); k >= 3 && part[k-2].kw("as") {
				m.as = part[k-1].text
				im.binds = append(im.binds, m.as)
			} else {
				top := strings.SplitN(name, ".", 2)[0]
				im.binds = append(im.binds, top)
				if top == name || name == "os.path" {
					m.as = top // import os.path binds os
					if name == "os.path" {
						m.name = "os"
					}
				}
			}
			im.modules = append(im.modules, m)
		}
		return im
	}
	im.from = true
	if len(s) < 2 {
		return im
	}
	name, level, i := dotted(s, 1)
	im.modules = append(im.modules, importedModule{tok: s[1], name: name, level: level})
	if i < len(s) && s[i].kw("import") {
		rest := s[i+1:]
		if len(rest) > 0 && rest[0].op("(") {
			rest = rest[1:]
			if len(rest) > 0 && rest[len(rest)-1].op(")") {
				rest = rest[:len(rest)-1]
			}
		}
		for _, part := range split(rest, ",") {
			if len(part) == 0 {
				continue
			}
			if part[0].op("*") {
				im.star = true
				continue
			}
			im.names = append(im.names, part[0])
			bind := part[0].text
			if k := len(part); k >= 3 && part[k-2].kw("as") {
				bind = part[k-1].text
			}
			im.binds = append(im.binds, bind)
		}
	}
	return im
}

// dotted reads a dotted module name at toks[i], after any leading dots
// of a relative import.
func dotted(toks []token, i int) (name string, level, next int) {
	for i < len(toks) && (toks[i].op(".") || toks[i].op("...")) {
		level += len(toks[i].text)
		i++
	}
	for i < len(toks) && toks[i].kind == tName && !toks[i].kw("import") && !toks[i].kw("as") {
		name += toks[i].text
		i++
		if i < len(toks) && toks[i].op(".") {
			name += "."
			i++
		} else {
			break
		}
	}
	return name, level, i
}

// ---------------------------------------------------------------- detectors

const catchFix = "call the risky part through catch(fn, *args) and test .error (.error.pam_result for PAM failures)"

// header checks a compound statement's header: kw is its keyword, prev
// the keyword of the compound statement before it at the same indentation.
func (a *analysis) header(L *logical, kw, prev string) {
	toks := L.toks
	c := headerColon(toks)
	if kw == "" || c < 0 {
		return
	}
	ki := 0
	if toks[0].kw("async") {
		ki = 1
	}
	kt := toks[ki]
	replace := func(text string) { a.sledit(kt.off, toks[c].end, text) }
	switch kw {
	case "try", "finally":
		a.sla(kt, "try/except", "Starlark has no exceptions", catchFix)
		replace("if True:")
	case "except":
		inner := toks[ki+1 : c]
		target := ""
		if parts := split(inner, ","); len(parts) >= 2 {
			last := parts[len(parts)-1]
			if len(last) == 1 && last[0].kind == tName {
				comma := inner[len(inner)-2]
				a.py2(kt, "`except E, e:` is Python 2 only", short("except "+a.src[inner[0].off:comma.off]+" as "+last[0].text+":"))
				a.edit(comma.off, comma.end, " as")
				target = last[0].text
			}
		}
		for j := ki + 1; j+1 < c; j++ {
			if toks[j].kw("as") && toks[j+1].kind == tName {
				target = toks[j+1].text
			}
		}
		a.sla(kt, "try/except", "Starlark has no exceptions", catchFix)
		if target != "" {
			replace("for " + target + " in []:")
		} else {
			replace("if True:")
		}
	case "else":
		switch prev {
		case "try", "except":
			a.sla(kt, "try/except", "Starlark has no exceptions", catchFix)
			replace("if True:")
		case "for", "while":
			a.sla(kt, prev+"/else", "Starlark loops have no else",
				"a flag: found = False before the loop, found = True before the break, then if not found:")
			replace("if True:")
		}
	case "with":
		var targets []string
		for j := ki + 1; j+1 < c; j++ {
			if toks[j].kw("as") {
				for k := j + 1; k < c && !toks[k].op(","); k++ {
					if toks[k].kind == tName {
						targets = append(targets, toks[k].text)
					}
					if !toks[k].op("(") && !toks[k].op(")") && toks[k].kind != tName {
						break
					}
				}
			}
		}
		a.sla(kt, "with", "Starlark has no with", "f = open(path), then f.read(); files need no closing here")
		if len(targets) > 0 {
			replace("for " + strings.Join(targets, ", ") + " in []:")
		} else {
			replace("if True:")
		}
	case "class":
		a.sla(kt, "class", "Starlark has no classes", "functions, and dicts for data")
		name := "_"
		if ki+1 < c && toks[ki+1].kind == tName {
			name = toks[ki+1].text
		}
		replace("def " + name + "():")
	case "def":
		a.defHeader(toks, ki, c)
	}
}

// defHeader: Python 2 tuple parameters; annotations, which Starlark lacks.
func (a *analysis) defHeader(toks []token, ki, c int) {
	if ki+2 >= c || !toks[ki+2].op("(") {
		return
	}
	end := closing(toks, ki+2)
	if end < 0 || end > c {
		return
	}
	annotated := false
	annotation := func(t token) {
		if !annotated {
			a.sla(t, "annotation", "Starlark has no type annotations", "drop them: def f(x, y):")
			annotated = true
		}
	}
	depth := 0
	for j := ki + 3; j < end; j++ {
		t := toks[j]
		switch {
		case t.op("(") || t.op("[") || t.op("{"):
			if depth == 0 && (toks[j-1].op("(") || toks[j-1].op(",")) && t.op("(") {
				a.py2(t, "tuple parameters are Python 2 only", "take one name and unpack it in the body: def f(a, pair): x, y = pair")
			}
			depth++
		case t.op(")") || t.op("]") || t.op("}"):
			depth--
		case depth == 0 && t.op(":"):
			k, d := j+1, 0
			for ; k < end; k++ {
				if toks[k].op("(") || toks[k].op("[") || toks[k].op("{") {
					d++
				} else if toks[k].op(")") || toks[k].op("]") || toks[k].op("}") {
					d--
				} else if d == 0 && (toks[k].op(",") || toks[k].op("=")) {
					break
				}
			}
			annotation(t)
			a.sledit(t.off, toks[k].off, "")
			j = k - 1
		}
	}
	if end+1 < c && toks[end+1].op("->") {
		annotation(toks[end+1])
		a.sledit(toks[end+1].off, toks[c].off, "")
	}
}

// statement checks a simple statement.
func (a *analysis) statement(L *logical, s []token) {
	t := s[0]
	mask := func() { a.sledit(t.off, s[len(s)-1].end, "pass") }
	if t.kind != tName {
		a.annotation(s)
		return
	}
	switch t.text {
	case "import", "from":
		a.importStatement(L, s)
	case "print":
		a.printStatement(s)
	case "exec":
		a.execStatement(s)
	case "raise":
		if parts := split(s[1:], ","); len(parts) >= 2 && len(parts) <= 3 && len(parts[0]) > 0 && len(parts[1]) > 0 {
			comma, msg, end := s[1+len(parts[0])], parts[1], s[len(s)-1]
			a.py2(t, "`raise E, msg` is Python 2 only", "")
			if msg[0].op("(") && closing(msg, 0) == len(msg)-1 {
				a.edit(comma.off, msg[0].end, "(") // raise E, (a, b) is raise E(a, b)
			} else {
				a.edit(comma.off, msg[0].off, "(")
				a.edit(msg[len(msg)-1].end, msg[len(msg)-1].end, ")")
			}
			if len(parts) == 3 && len(parts[2]) > 0 {
				comma2 := s[1+len(parts[0])+1+len(parts[1])]
				a.edit(comma2.off, parts[2][0].off, ".with_traceback(")
				a.edit(end.end, end.end, ")")
			}
			a.fixLater(t.off, end.end)
		}
		a.sla(t, "raise", "Starlark has no exceptions", "return a PAM code (pamh.PAM_AUTH_ERR…), or fail(\"why\") to stop with an error")
		mask()
	case "global", "nonlocal":
		a.sla(t, t.text, "a Starlark function cannot rebind a global",
			"keep changing state in a dict: state = {} at the top, state[\"x\"] = … in functions")
		mask()
	case "del":
		a.sla(t, "del", "Starlark has no del", "d.pop(key), or list.remove(value)")
		mask()
	case "assert":
		a.sla(t, "assert", "Starlark has no assert", "if not CONDITION: return pamh.PAM_SERVICE_ERR")
		mask()
	case "yield":
		a.sla(t, "yield", "Starlark has no generators", "build a list and return it")
		mask()
	default:
		a.annotation(s)
	}
}

func hasKeyword(toks []token, kw string) bool {
	for _, t := range toks {
		if t.kw(kw) {
			return true
		}
	}
	return false
}

// annotation: `x: int = 5`; and a = b = c, which Starlark cannot chain.
func (a *analysis) annotation(s []token) {
	if parts := split(s, "="); len(parts) > 2 && !hasKeyword(s, "lambda") {
		eq := s[len(parts[0])]
		a.sla(eq, "chained assignment", "Starlark assigns one target per statement",
			short(a.text(parts[len(parts)-2])+" = …, then "+a.text(parts[0])+" = "+a.text(parts[len(parts)-2])))
	}
	depth := 0
	for j, t := range s {
		switch {
		case t.op("(") || t.op("[") || t.op("{"):
			depth++
		case t.op(")") || t.op("]") || t.op("}"):
			depth--
		case depth == 0 && t.kw("lambda"):
			return
		case depth == 0 && t.op(":") && j > 0:
			eq := -1
			for k := j + 1; k < len(s); k++ {
				if s[k].op("=") {
					eq = k
					break
				}
			}
			if eq > 0 {
				a.sla(t, "annotation", "Starlark has no type annotations", short(a.text(s[:j])+" "+a.text(s[eq:])))
				a.sledit(t.off, s[eq].off, " ")
			} else {
				a.sla(t, "annotation", "Starlark has no type annotations", "drop the line")
				a.sledit(s[0].off, s[len(s)-1].end, "pass")
			}
			return
		}
	}
}

// py2Modules are Python 2 modules under their Python 3 names.
var py2Modules = map[string]string{
	"ConfigParser": "configparser", "urllib2": "urllib.request", "urlparse": "urllib.parse", "cookielib": "http.cookiejar",
	"Queue": "queue", "StringIO": "io (io.StringIO)", "cStringIO": "io (io.StringIO)", "cPickle": "pickle",
	"commands": "subprocess", "httplib": "http.client", "HTMLParser": "html.parser", "SocketServer": "socketserver",
	"__builtin__": "builtins", "thread": "_thread", "md5": "hashlib", "sha": "hashlib", "sets": "nothing: set is built in",
	"exceptions": "nothing: exceptions are built in", "Tkinter": "tkinter", "xmlrpclib": "xmlrpc.client",
	"anydbm": "dbm", "robotparser": "urllib.robotparser", "BaseHTTPServer": "http.server",
	"SimpleHTTPServer": "http.server", "Cookie": "http.cookies", "htmlentitydefs": "html.entities", "copy_reg": "copyreg",
	"UserDict": "collections", "popen2": "subprocess", "dummy_thread": "_dummy_thread", "repr": "reprlib",
}

func (a *analysis) importStatement(L *logical, s []token) {
	im := parseImport(s)
	if len(im.modules) == 0 || im.modules[0].name == "" && im.modules[0].level == 0 {
		return // no import: the compiler says what is wrong
	}
	for _, m := range im.modules {
		top := strings.SplitN(m.name, ".", 2)[0]
		if py3, ok := py2Modules[top]; ok && m.level == 0 {
			fix := "import " + py3
			if strings.HasPrefix(py3, "nothing") {
				fix = py3
			}
			a.py2name(m.tok, "module "+top+" is Python 2 only", fix)
		}
	}
	if !a.sl {
		return
	}
	unknown := false
	for _, m := range im.modules {
		switch {
		case im.from && m.name == "__future__":
			a.sla(m.tok, "import", "the Starlark engine has no __future__", "delete the line")
			unknown = true
		case m.level > 0 || !known(m.name):
			name := strings.Repeat(".", m.level) + m.name
			a.sla(m.tok, "import", fmt.Sprintf("module %q is not available in the Starlark engine (it has %s)", name, strings.Join(moduleNames, ", ")),
				"drop it, or run the script in real Python: interpreter=/usr/bin/python3 on the module line")
			unknown = true
		}
	}
	if !unknown {
		switch {
		case im.star:
			a.sla(s[0], "import", "`from "+im.modules[0].name+" import *` is not supported", "name what you use: from "+im.modules[0].name+" import a, b")
			unknown = true
		case s[0].line != s[len(s)-1].line:
			a.sla(s[0], "import", "an import must fit on one line here", "write it on one line")
			unknown = true
		case L.toks[0].off != s[0].off || L.toks[len(L.toks)-1].off != s[len(s)-1].off:
			a.sla(s[0], "import", "an import must be alone on its line here", "one import statement per line")
			unknown = true
		case im.from:
			mod := im.modules[0].name
			for _, n := range im.names {
				if ok, has := hasAttr(mod, n.text); !ok {
					a.sla(n, mod+"."+n.text, "the Starlark engine's "+mod+" has no "+n.text, hostAttrFix(mod, n.text, has))
				}
			}
		}
	}
	if unknown {
		var b []string
		for _, n := range im.binds {
			b = append(b, n+" = None")
		}
		text := strings.Join(b, "; ")
		if text == "" {
			text = "pass"
		}
		a.sledit(s[0].off, s[len(s)-1].end, text)
	}
}

// hasAttr reports whether the host's module has a member, and the members
// it has.
func hasAttr(module, attr string) (bool, []string) {
	m, ok := hostModules[module]
	if !ok {
		return true, nil
	}
	var v starlark.Value = m
	h, ok := v.(starlark.HasAttrs)
	if !ok {
		return true, nil
	}
	names := h.AttrNames()
	for _, n := range names {
		if n == attr {
			return true, names
		}
	}
	return false, names
}

func hostAttrFix(mod, attr string, has []string) string {
	switch {
	case mod == "sys" && attr == "exit":
		return "return a PAM code (pamh.PAM_AUTH_ERR…)"
	case mod == "os" && (attr == "system" || attr == "popen" || attr == "fork" || strings.HasPrefix(attr, "exec") || strings.HasPrefix(attr, "spawn")):
		return "the Starlark engine runs no programs; real Python does: interpreter=/usr/bin/python3"
	}
	return "it has " + strings.Join(has, ", ")
}

// printStatement: Python 2's print statement, in its Python 3 form.
func (a *analysis) printStatement(s []token) {
	t, rest := s[0], s[1:]
	if len(rest) > 0 {
		r := rest[0]
		if r.kind == tOp && !r.op("(") && !r.op("[") && !r.op(">>") && !r.op("-") && !r.op("+") && !r.op("~") && !r.op("`") && !r.op("{") {
			return // print = …, print.x: not the statement
		}
		if r.kind == tName && (pyKeywords[r.text] && r.text != "not" && r.text != "lambda" && r.text != "None" && r.text != "True" && r.text != "False") {
			return
		}
		if r.op("(") && closing(rest, 0) == len(rest)-1 {
			return // print(…)
		}
	}
	end := s[len(s)-1]
	var extras []string
	args := rest
	if len(args) > 0 && args[0].op(">>") {
		parts := split(args[1:], ",")
		extras = append(extras, "file="+a.text(parts[0]))
		if len(parts[0])+1 < len(args[1:]) {
			args = args[1+len(parts[0])+1:]
		} else {
			args = nil
		}
	}
	var comma *token // print x, (no newline)
	if n := len(args); n > 0 && args[n-1].op(",") {
		comma = &args[n-1]
		args = args[:n-1]
		extras = append([]string{`end=" "`}, extras...)
	}
	a.py2(t, "print is a statement only in Python 2", "")
	closing := strings.Join(extras, ", ") + ")"
	switch {
	case len(args) == 0:
		a.edit(t.end, end.end, "("+closing)
	case comma != nil:
		a.edit(t.end, args[0].off, "(")
		a.edit(comma.off, comma.end, ", "+closing)
	default:
		a.edit(t.end, args[0].off, "(")
		if len(extras) > 0 {
			closing = ", " + closing
		}
		a.edit(args[len(args)-1].end, args[len(args)-1].end, closing)
	}
	a.fixLater(t.off, end.end)
}

func (a *analysis) execStatement(s []token) {
	rest := s[1:]
	if len(rest) == 0 || rest[0].kind == tOp && !rest[0].op("(") || rest[0].op("(") && closing(rest, 0) == len(rest)-1 {
		return
	}
	code, ns := rest, []token(nil)
	for j, t := range rest {
		if t.kw("in") {
			code, ns = rest[:j], rest[j+1:]
			break
		}
	}
	if len(code) == 0 {
		return
	}
	a.py2(s[0], "exec is a statement only in Python 2", "")
	a.edit(s[0].end, code[0].off, "(")
	if len(ns) > 0 {
		a.edit(code[len(code)-1].end, ns[0].off, ", ")
	}
	a.edit(s[len(s)-1].end, s[len(s)-1].end, ")")
	a.fixLater(s[0].off, s[len(s)-1].end)
}

type py2Name struct {
	fix  string
	call bool // only when called: the name is common as a variable
}

var py2Builtins = map[string]py2Name{
	"basestring": {"str", false}, "unicode": {"str", false}, "long": {"int", false}, "xrange": {"range", false},
	"raw_input": {"input() (no terminal under PAM: pamh.conversation)", false}, "unichr": {"chr", false},
	"execfile": {"exec(open(path).read())", false}, "StandardError": {"Exception", false},
	"file": {"open(path)", true}, "reduce": {"functools.reduce", true}, "cmp": {"(a > b) - (a < b)", true},
	"apply": {"f(*args, **kwargs)", true}, "intern": {"sys.intern", true}, "reload": {"importlib.reload", true},
	"buffer": {"memoryview", true}, "coerce": {"int(x), float(x)", true},
}

var py2Methods = map[string]string{"iteritems": "items", "iterkeys": "keys", "itervalues": "values",
	"viewitems": "items", "viewkeys": "keys", "viewvalues": "values"}

// py2Attrs are module members that Python 3 renamed or dropped.
var py2Attrs = map[string]map[string]string{
	"sys":       {"maxint": "sys.maxsize", "exc_clear": "nothing: drop it", "setdefaultencoding": "nothing: drop it"},
	"os":        {"getcwdu": "os.getcwd", "errno": "the errno module"},
	"itertools": {"izip": "zip", "imap": "map", "ifilter": "filter", "izip_longest": "itertools.zip_longest", "ifilterfalse": "itertools.filterfalse"},
	"urllib": {"urlopen": "urllib.request.urlopen", "urlencode": "urllib.parse.urlencode", "quote": "urllib.parse.quote",
		"unquote": "urllib.parse.unquote", "quote_plus": "urllib.parse.quote_plus", "unquote_plus": "urllib.parse.unquote_plus",
		"urlretrieve": "urllib.request.urlretrieve"},
	"string": {"letters": "string.ascii_letters", "lowercase": "string.ascii_lowercase", "uppercase": "string.ascii_uppercase",
		"maketrans": "str.maketrans", "atoi": "int(s)", "atol": "int(s)", "atof": "float(s)", "join": "sep.join(list)",
		"joinfields": "sep.join(list)", "split": "s.split(sep)", "splitfields": "s.split(sep)", "lower": "s.lower()",
		"upper": "s.upper()", "strip": "s.strip()", "lstrip": "s.lstrip()", "rstrip": "s.rstrip()", "replace": "s.replace(a, b)",
		"find": "s.find(x)", "rfind": "s.rfind(x)", "index": "s.index(x)", "rindex": "s.rindex(x)", "count": "s.count(x)",
		"capitalize": "s.capitalize()", "swapcase": "s.swapcase()", "expandtabs": "s.expandtabs()", "translate": "s.translate(t)",
		"ljust": "s.ljust(n)", "rjust": "s.rjust(n)", "center": "s.center(n)", "zfill": "s.zfill(n)"},
}

// operand reports whether t ends an operand, so that what follows is a
// binary operator or a call.
func operand(t token) bool {
	switch t.kind {
	case tNumber, tString:
		return true
	case tName:
		return !pyKeywords[t.text] || t.text == "None" || t.text == "True" || t.text == "False"
	}
	return t.op(")") || t.op("]") || t.op("}")
}

// expressions checks every token of a logical line.
func (a *analysis) expressions(L *logical) {
	toks := L.toks
	var ticks []int
	var tok0 token
	for i, t := range toks {
		prev, next := tok0, tok0
		if i > 0 {
			prev = toks[i-1]
		}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		switch t.kind {
		case tString:
			a.stringToken(toks, i)
		case tNumber:
			a.number(t)
		case tOp:
			switch t.text {
			case "<>":
				a.py2(t, "<> is Python 2's !=", "!=")
				a.edit(t.off, t.end, "!=")
			case "`":
				ticks = append(ticks, i)
			case "**":
				if i > 0 && operand(prev) {
					a.sla(t, "**", "Starlark has no power operator", "multiply, or write the number out")
					a.sledit(t.off, t.end, "*")
				}
			case ":=":
				a.sla(t, ":=", "Starlark has no assignment expressions", "assign on a line of its own first")
			case "(":
				a.generator(toks, i)
			case "{":
				a.set(toks, i)
			case ".":
				if next.kind == tName && i+2 < len(toks) && toks[i+2].op("(") {
					a.method(toks, i)
				}
			}
		case tName:
			if prev.op(".") || prev.kw("def") || prev.kw("class") {
				continue
			}
			switch t.text {
			case "yield":
				if i > 0 {
					a.sla(t, "yield", "Starlark has no generators", "build a list and return it")
				}
			case "await":
				a.sla(t, "await", "Starlark has no async/await", "drop await")
				a.sledit(t.off, t.end, strings.Repeat(" ", len(t.text)))
			}
			if b, ok := py2Builtins[t.text]; ok && !a.bound[t.text] && !next.op("=") && (!b.call || next.op("(")) {
				a.py2name(t, t.text+" is Python 2 only", b.fix)
			}
			if next.op(".") && i+2 < len(toks) && toks[i+2].kind == tName {
				a.attribute(toks, i)
			}
		}
	}
	for k := 0; k+1 < len(ticks); k += 2 {
		open, close := toks[ticks[k]], toks[ticks[k+1]]
		a.py2(open, "backticks are Python 2's repr()", short("repr("+a.src[open.end:close.off]+")"))
		a.edit(open.off, open.end, "repr(")
		a.edit(close.off, close.end, ")")
	}
	if len(ticks)%2 == 1 {
		a.py2(toks[ticks[len(ticks)-1]], "backticks are Python 2's repr()", "repr(x)")
	}
	a.comparisons(toks)
}

// attribute checks module.member: Python 2 names, and what the host's
// modules lack.
func (a *analysis) attribute(toks []token, i int) {
	t, attr := toks[i], toks[i+2]
	if a.assigned[t.text] {
		return // a variable of the script's, whatever it imports by that name
	}
	mod, ok := a.imported[t.text]
	if !ok {
		if _, host := hostModules[t.text]; !host || a.bound[t.text] {
			return
		}
		mod = t.text // the host's modules are there without an import
	}
	if fix, ok := py2Attrs[mod][attr.text]; ok {
		a.py2name(attr, mod+"."+attr.text+" is Python 2 only", fix)
		return
	}
	if !a.sl {
		return
	}
	if mod == "os" && attr.text == "path" && i+4 < len(toks) && toks[i+3].op(".") && toks[i+4].kind == tName {
		mod, attr = "os.path", toks[i+4]
	}
	if ok, has := hasAttr(mod, attr.text); !ok {
		a.sla(attr, mod+"."+attr.text, "the Starlark engine's "+mod+" has no "+attr.text, hostAttrFix(mod, attr.text, has))
	}
}

// method checks .name( calls: Python 2 dict methods; string methods that
// Starlark lacks.
func (a *analysis) method(toks []token, dot int) {
	name := toks[dot+1]
	if a.bound[name.text] || dot > 0 && toks[dot-1].kind == tName && a.imported[toks[dot-1].text] != "" {
		return // the script's own method, or a module's function
	}
	switch {
	case name.text == "has_key":
		end := closing(toks, dot+2)
		arg := "key"
		if end > 0 {
			arg = a.src[toks[dot+2].end:toks[end].off]
		}
		start := dot - 1
	receiver:
		for start > 0 {
			switch p := toks[start]; {
			case p.op(")") || p.op("]"):
				o := opening(toks, start)
				if o > 0 && operand(toks[o-1]) {
					start = o - 1 // a call or a subscript
					continue
				}
				if o >= 0 {
					start = o // (a or b)
				}
				break receiver
			case p.kind == tName && toks[start-1].op("."):
				start -= 2
				continue
			}
			break
		}
		recv := "d"
		if start >= 0 && start < dot {
			recv = a.src[toks[start].off:toks[dot].off]
		}
		a.py2name(name, "dict.has_key() is Python 2 only", short(strings.TrimSpace(arg)+" in "+recv))
	case py2Methods[name.text] != "":
		a.py2name(name, "."+name.text+"() is Python 2 only", "."+py2Methods[name.text]+"()")
	case name.text == "encode" || name.text == "decode":
		a.sla(name, "."+name.text+"()", "Starlark strings have no ."+name.text+"()", "drop it: strings here are UTF-8 text already")
	}
}

// stringToken: Python 2 ur"" strings; prefixes, escapes and formats the
// Starlark engine does not take.
func (a *analysis) stringToken(toks []token, i int) {
	t := toks[i]
	p := t.prefix
	lp := strings.ToLower(p)
	if strings.Contains(lp, "u") && strings.Contains(lp, "r") {
		k := strings.IndexAny(p, "uU")
		a.py2(t, p+"\"…\" strings are Python 2 only", strings.Replace(p, p[k:k+1], "", 1)+t.quote+"…"+t.quote)
		a.edit(t.off+k, t.off+k+1, " ")
	}
	if !a.sl {
		return
	}
	np := ""
	for _, c := range lp {
		if c == 'r' || c == 'b' {
			np += string(c)
		}
	}
	if np == "br" {
		np = "rb"
	}
	switch {
	case strings.Contains(lp, "f"):
		a.sla(t, "f-string", "Starlark has no f-strings", "\"…%s…\" % (x,) or \"…{}…\".format(x)")
	case lp == "u":
		a.sla(t, "string prefix", "Starlark strings take no u prefix", "drop the u")
	case p != np && !strings.Contains(lp, "u"):
		a.sla(t, "string prefix", "Starlark takes r, b and rb prefixes, in lower case", np+t.quote+"…"+t.quote)
	}
	if np != p {
		a.sledit(t.off, t.off+len(p), strings.Repeat(" ", len(p)-len(np))+np)
	}
	if t.bad {
		return
	}
	body := t.text[len(p)+len(t.quote) : len(t.text)-len(t.quote)]
	bodyOff := t.off + len(p) + len(t.quote)
	if !strings.Contains(lp, "r") {
		a.escapes(t, body, bodyOff, strings.Contains(lp, "b"))
	}
	if i+1 < len(toks) && toks[i+1].op("%") {
		for _, m := range percentRe.FindAllStringSubmatch(body, -1) {
			if m[2] != "" || m[3] != "" || m[4] != "" {
				a.sla(t, "format", "Starlark's % has no width, precision or flags ("+m[0]+")", "%s or %d, padded by hand")
				break
			}
		}
	}
	if i+2 < len(toks) && toks[i+1].op(".") && toks[i+2].kw("format") {
		if m := specRe.FindString(body); m != "" {
			a.sla(t, "format", "Starlark's format() takes no format spec ("+m+")", "\"{}\".format(x), padded by hand")
		}
	}
}

var (
	percentRe = regexp.MustCompile(`%(\([^)]*\))?([-+ #0]*)(\*|\d+)?(\.(?:\*|\d+))?[a-zA-Z%]`)
	specRe    = regexp.MustCompile(`\{[^{}]*:[^{}]+\}`)
)

// escapes: Starlark knows \a \b \f \n \r \t \v \\ \' \" \ooo \xhh \uXXXX
// \UXXXXXXXX, and in text (not bytes) only ASCII for \ooo and \xhh.
func (a *analysis) escapes(t token, body string, bodyOff int, isBytes bool) {
	reported := false
	for j := 0; j+1 < len(body); j++ {
		if body[j] != '\\' {
			continue
		}
		c := body[j+1]
		esc, fix := "", ""
		switch {
		case strings.IndexByte("\n\rabfnrtv\\'\"", c) >= 0:
			j++
			continue
		case c >= '0' && c <= '7':
			k, n := j+1, 0
			for ; k < len(body) && k < j+4 && body[k] >= '0' && body[k] <= '7'; k++ {
				n = n*8 + int(body[k]-'0')
			}
			if n > 255 || !isBytes && n > 127 {
				esc, fix = body[j:k], fmt.Sprintf(`\u%04x`, n)
			}
			j = k - 1
		case c == 'x':
			var n uint64
			_, err := fmt.Sscanf(body[j+2:min(j+4, len(body))], "%02x", &n)
			k := min(j+4, len(body))
			if err != nil || k-j < 4 {
				esc, fix = body[j:k], `\\`+body[j+1:k]
			} else if !isBytes && n > 127 {
				esc, fix = body[j:k], fmt.Sprintf(`\u%04x`, n)
			}
			j = k - 1
		case c == 'u' || c == 'U':
			j++
			continue
		default:
			esc, fix = body[j:j+2], `\\`+string(c)
			j++
		}
		if esc == "" {
			continue
		}
		if !reported {
			line, col := a.pos(bodyOff + j + 1 - len(esc))
			if a.sl {
				a.add(Finding{Line: line, Col: col, What: "escape", Why: esc + " is no escape sequence in Starlark",
					Fix: "write " + fix + ", or make it a raw string r\"…\""})
			}
			reported = true
		}
		off := bodyOff + j + 1 - len(esc)
		a.sledit(off, off+len(esc), fix)
	}
}

// pos is the line and column of a byte of the source.
func (a *analysis) pos(off int) (int, int) {
	line := 1 + strings.Count(a.src[:off], "\n")
	ls := strings.LastIndexByte(a.src[:off], '\n') + 1
	return line, utf8.RuneCountInString(a.src[ls:off]) + 1
}

var (
	intRe   = regexp.MustCompile(`^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$`)
	octalRe = regexp.MustCompile(`^0[0-9]+$`)
)

func (a *analysis) number(t token) {
	s := t.text
	long := false
	if n := len(s); n > 1 && (s[n-1] == 'l' || s[n-1] == 'L') && intRe.MatchString(s[:n-1]) {
		long, s = true, s[:n-1]
	}
	if octalRe.MatchString(s) && strings.Trim(s, "0") != "" {
		digits := strings.TrimLeft(s, "0")
		if strings.ContainsAny(digits, "89") {
			a.add(Finding{Line: t.line, Col: t.col, What: "number", Why: "a decimal number cannot start with 0", Fix: digits})
			a.edit(t.off, t.end, digits)
			return
		}
		a.py2(t, t.text+" is a Python 2 octal literal", "0o"+digits)
		a.edit(t.off, t.end, "0o"+digits)
		return
	}
	if long {
		a.py2(t, t.text+": long literals are Python 2 only", s)
		a.edit(t.off, t.end, s)
	}
	switch {
	case strings.Contains(s, "_"):
		a.sla(t, "number", "Starlark numbers have no _", strings.ReplaceAll(s, "_", ""))
		a.sledit(t.off, t.end, strings.ReplaceAll(s, "_", ""))
	case strings.HasSuffix(s, "j") || strings.HasSuffix(s, "J"):
		a.sla(t, "number", "Starlark has no complex numbers", "")
	}
}

// generator: `(x for x in y)` and `f(x for x in y)`.
func (a *analysis) generator(toks []token, i int) {
	k := closing(toks, i)
	if k < 0 {
		return
	}
	depth := 0
	for j := i + 1; j < k; j++ {
		t := toks[j]
		switch {
		case t.op("(") || t.op("[") || t.op("{"):
			depth++
		case t.op(")") || t.op("]") || t.op("}"):
			depth--
		case depth == 0 && t.kw("for"):
			a.sla(toks[i], "generator expression", "Starlark has no generator expressions", "a list comprehension: any([x for x in xs])")
			if i > 0 && operand(toks[i-1]) {
				a.sledit(toks[i].end, toks[i].end, "[")
				a.sledit(toks[k].off, toks[k].off, "]")
			} else {
				a.sledit(toks[i].off, toks[i].end, "[")
				a.sledit(toks[k].off, toks[k].end, "]")
			}
			return
		}
	}
}

// set: `{a, b}` and `{x for x in y}`.
func (a *analysis) set(toks []token, i int) {
	k := closing(toks, i)
	if k < 0 || k == i+1 || toks[i+1].op("**") {
		return
	}
	depth, lambdas := 0, 0
	for j := i + 1; j < k; j++ {
		t := toks[j]
		switch {
		case t.op("(") || t.op("[") || t.op("{"):
			depth++
		case t.op(")") || t.op("]") || t.op("}"):
			depth--
		case depth == 0 && t.kw("lambda"):
			lambdas++
		case depth == 0 && t.op(":"):
			if lambdas == 0 {
				return // a dict
			}
			lambdas--
		}
	}
	a.sla(toks[i], "set", "Starlark has no set literals", "set([a, b]), or set([x for x in xs])")
	a.sledit(toks[i].off, toks[i].end, "set([")
	a.sledit(toks[k].off, toks[k].end, "])")
}

var resetOps = map[string]bool{",": true, ":": true, ";": true, "=": true, "->": true, ":=": true, "+=": true, "-=": true,
	"*=": true, "/=": true, "//=": true, "%=": true, "**=": true, ">>=": true, "<<=": true, "&=": true, "|=": true, "^=": true, "@=": true}

var cmpOps = map[string]bool{"<": true, ">": true, "<=": true, ">=": true, "==": true, "!=": true, "<>": true}

// comparisons: chains (a < b < c), which Starlark rejects, and `is`,
// which it has not (`is None` and the like are rewritten by prepare).
func (a *analysis) comparisons(toks []token) {
	counts := map[int]int{}
	forIn := map[int]bool{}
	depth := 0
	cmp := func(i, j int) {
		counts[depth]++
		if counts[depth] >= 2 {
			if counts[depth] == 2 {
				a.sla(toks[i], "chained comparison", "Starlark comparisons do not chain", "a < b < c becomes a < b and b < c")
			}
			a.sledit(toks[i].off, toks[j].end, "and")
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tOp {
			switch {
			case t.op("(") || t.op("[") || t.op("{"):
				depth++
				counts[depth], forIn[depth] = 0, false
			case t.op(")") || t.op("]") || t.op("}"):
				depth--
			case resetOps[t.text]:
				counts[depth] = 0
			case cmpOps[t.text]:
				cmp(i, i)
			}
			continue
		}
		if t.kind != tName {
			continue
		}
		switch t.text {
		case "for":
			forIn[depth] = true
			counts[depth] = 0
		case "in":
			if forIn[depth] {
				forIn[depth] = false
				counts[depth] = 0
			} else {
				cmp(i, i)
			}
		case "not":
			if i > 0 && i+1 < len(toks) && toks[i+1].kw("in") && operand(toks[i-1]) {
				cmp(i, i+1)
				i++
			} else {
				counts[depth] = 0
			}
		case "is":
			j := i
			if i+1 < len(toks) && toks[i+1].kw("not") {
				j = i + 1
			}
			cmp(i, j)
			if j+1 < len(toks) {
				if v := toks[j+1]; !v.kw("None") && !v.kw("True") && !v.kw("False") {
					a.sla(t, "is", "Starlark has no is", "== or != (is None, is not None, is True, is False are rewritten for you)")
					op := "=="
					if j > i {
						op = "!="
					}
					a.sledit(t.off, toks[j].end, op)
				}
			}
			i = j
		case "and", "or", "if", "else", "lambda", "return", "yield", "assert", "elif", "while", "with", "as", "del", "raise", "print", "import":
			counts[depth] = 0
		}
	}
}

// ---------------------------------------------------------------- compiling

// mask is a statement that compiles in place of a logical line, for the
// Starlark engine (sl) or Python: a header keeps its kind, so the block
// under it still parses.
func (a *analysis) mask(L *logical, sl bool) string {
	toks := L.toks
	if toks[0].op("@") {
		return ""
	}
	ki := 0
	if toks[0].kw("async") && len(toks) > 1 {
		ki = 1
	}
	kw := toks[ki].text
	if toks[ki].kind != tName || !compoundKeywords[kw] {
		return "pass"
	}
	name := "_"
	if ki+1 < len(toks) && toks[ki+1].kind == tName {
		name = toks[ki+1].text
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
	return L.index+1 < len(a.lines) && a.lines[L.index+1].indent > L.indent
}

// chunks are the top-level statements as ranges of physical lines, each
// with the comments before it; a decorator and else/elif/except/finally
// stay with their statement.
func (a *analysis) chunks() [][2]int {
	n := strings.Count(a.src, "\n") + 1
	var starts []int
	for i, L := range a.lines {
		t := L.toks[0]
		if L.indent != 0 || t.kw("else") || t.kw("elif") || t.kw("except") || t.kw("finally") ||
			i > 0 && a.lines[i-1].toks[0].op("@") {
			continue
		}
		starts = append(starts, L.first)
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
		for p := L.first; p <= L.last; p++ {
			lineOf[p] = i
		}
	}
	parse := func(src string) error {
		prepared, err := prepare(name, []byte(src))
		if err != nil {
			return err
		}
		_, err = fileOptions.Parse(name, prepared, 0)
		return err
	}
	report := func(line, col int, what, msg string) {
		if !a.reportedLine(line) {
			a.add(Finding{Line: line, Col: col, What: what, Why: msg})
		}
	}
	blankNames := func(from, to int) {
		for _, L := range a.lines {
			if L.first <= to && L.last >= from {
				for _, t := range L.toks {
					if t.kind == tName {
						a.extra[t.text] = true
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
				blankNames(L.first, L.last)
				lines[L.first-1] = L.indentText + a.mask(L, true)
				for p := L.first + 1; p <= L.last; p++ {
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
	prepared, err := prepare(name, []byte(full))
	if err != nil {
		line, col, what, msg := errorPos(err)
		report(line, col, what, msg)
		return
	}
	f, err := fileOptions.Parse(name, prepared, 0)
	if err != nil {
		line, col, what, msg := errorPos(err)
		report(line, col, what, msg)
		return
	}
	known := func(n string) bool { return predeclaredName(n) || a.extra[n] }
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
	var pe *PrepareError
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
