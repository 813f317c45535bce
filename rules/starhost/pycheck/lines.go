package pycheck

import (
	"strings"
	"unicode/utf8"
)

// How the linter reads a script: tokens, logical lines, brackets and
// statements.

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

func hasKeyword(toks []token, kw string) bool {
	for _, t := range toks {
		if t.kw(kw) {
			return true
		}
	}
	return false
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
