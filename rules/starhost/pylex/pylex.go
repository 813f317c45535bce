// Package pylex splits Python source into tokens: names, numbers,
// strings, operators, comments and line breaks, each with its place.
//
// It is the one reading of Python text in pam-accesscontrol, for two
// users: the Starlark engine's pre-pass (starhost's prepare), which must
// rewrite `import` and `is None` in code and never inside a string or a
// comment; and check-script's linter (pycheck), which must find every
// problem of a script, Python 2's included. Neither needs a parse tree;
// both need to know, for every byte, whether it is code.
//
// Any input gives tokens, never an error or a panic: an unterminated
// string is marked Bad, a byte that starts no token is an Op of its own,
// and a bracket left open does not swallow the rest of the file (Tokens
// says how). Python 2's forms (`<>`, backticks, 10L, ur"") are tokens too,
// so that a linter can point at them.
package pylex

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a token is.
type Kind uint8

const (
	Name    Kind = iota + 1 // an identifier or a keyword
	Number                  // 12, 0x1f, 1.5e-3, and the malformed 0777, 10L, 1_000, 2j as written
	String                  // with its prefix and its quotes
	Op                      // an operator or a delimiter, or a byte that starts no other token
	Comment                 // from # to the end of the line
	Newline                 // the end of a logical line
	NL                      // a line break that ends no logical line: blank lines, comment lines, inside brackets
)

var kindNames = [...]string{Name: "name", Number: "number", String: "string", Op: "op", Comment: "comment", Newline: "newline", NL: "nl"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one token and its place in the source.
type Token struct {
	Kind      Kind
	Text      string // the source of the token, Src[Off:End]
	Off, End  int    // byte offsets
	Line, Col int    // where it starts, from 1; Col counts runes
	LineOff   int    // the offset at which Line starts
	// A String's prefix as written ("", "r", "Rb", "f", "ur"…) and its
	// quote (', ", ''' or """).
	Prefix, Quote string
	// Bad marks a String that does not end: a one-quote string at its line
	// break, a triple-quoted one at the end of the source.
	Bad bool
}

// IsOp reports whether t is the operator or delimiter op.
func (t Token) IsOp(op string) bool { return t.Kind == Op && t.Text == op }

// IsName reports whether t is the name (or keyword) name.
func (t Token) IsName(name string) bool { return t.Kind == Name && t.Text == name }

// Tokens splits src into tokens, comments and line breaks included; the
// gaps between them are white space and backslash continuations only.
//
// Every logical line with code ends in a Newline: its "\n", or an empty
// one at the end of the source. A bracket left open would make the rest
// of the file one logical line and hide every later line from a reader
// that works by statement; so a physical line that starts with a keyword
// only a statement can start with (def, class, import, return, …) ends the
// logical line before it (an empty Newline there) and closes the brackets.
// Valid Python never has such a line inside brackets.
func Tokens(src string) []Token {
	s := &scanner{src: src, line: 1, colLine: 1, col: 1}
	s.scan()
	return s.toks
}

// Keyword reports whether name is one of Python 3's keywords.
func Keyword(name string) bool {
	switch name {
	case "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
		"def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
		"is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield":
		return true
	}
	return false
}

// statementKeyword: keywords that only start a statement, so a line that
// starts with one is not inside brackets, whatever an earlier line left
// open.
func statementKeyword(name string) bool {
	switch name {
	case "def", "class", "import", "return", "pass", "raise", "global", "nonlocal", "del", "try", "with",
		"while", "assert", "break", "continue", "elif", "except", "finally":
		return true
	}
	return false
}

// scanner is one pass over a source.
type scanner struct {
	src     string
	i       int // the next byte
	line    int // the line of byte i
	lineOff int // where that line starts
	depth   int // brackets open
	code    bool
	toks    []Token
	// the column cache: colAt on line colLine is column col, so that
	// columns cost one pass over each line, not one per token
	colLine, colAt, col int
}

func (s *scanner) scan() {
	src := s.src
	if strings.HasPrefix(src, "\ufeff") {
		s.i = 3 // a UTF-8 byte order mark
	}
	for s.i < len(src) {
		c := src[s.i]
		switch {
		case c == '\n':
			kind := NL
			if s.depth == 0 && s.code {
				kind, s.code = Newline, false
			}
			s.emit(kind, s.i, s.i+1)
			s.i++
			s.newline(s.i)
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			s.i++
		case c == '#':
			j := s.i
			for j < len(src) && src[j] != '\n' {
				j++
			}
			s.emit(Comment, s.i, j)
			s.i = j
		case c == '\\' && strings.HasPrefix(src[s.i+1:], "\n"):
			s.i += 2
			s.newline(s.i)
		case c == '\\' && strings.HasPrefix(src[s.i+1:], "\r\n"):
			s.i += 3
			s.newline(s.i)
		case isIdentStart(c):
			s.name()
		case isDigit(c) || c == '.' && s.i+1 < len(src) && isDigit(src[s.i+1]):
			s.number()
		case c == '"' || c == '\'':
			s.str(s.i)
		default:
			n := opLen(src[s.i:])
			switch c {
			case '(', '[', '{':
				s.depth++
			case ')', ']', '}':
				if s.depth > 0 {
					s.depth--
				}
			}
			s.emit(Op, s.i, s.i+n)
			s.i += n
		}
	}
	if s.code {
		s.emit(Newline, len(src), len(src))
	}
}

// newline notes that a line starts at off.
func (s *scanner) newline(off int) { s.line, s.lineOff = s.line+1, off }

// emit appends the token src[off:end], which starts on the current line.
func (s *scanner) emit(kind Kind, off, end int) *Token {
	switch kind {
	case Name, Number, String, Op:
		s.code = true
	}
	s.toks = append(s.toks, Token{Kind: kind, Text: s.src[off:end], Off: off, End: end,
		Line: s.line, Col: s.column(off), LineOff: s.lineOff})
	return &s.toks[len(s.toks)-1]
}

// column is the column of off, a byte of the current line.
func (s *scanner) column(off int) int {
	if s.colLine != s.line || s.colAt < s.lineOff || s.colAt > off {
		s.colLine, s.colAt, s.col = s.line, s.lineOff, 1
	}
	s.col += utf8.RuneCountInString(s.src[s.colAt:off])
	s.colAt = off
	return s.col
}

// name reads a name, or the prefix of a string.
func (s *scanner) name() {
	src := s.src
	j := s.i
	for j < len(src) && isIdent(src[j]) {
		j++
	}
	if j < len(src) && (src[j] == '"' || src[j] == '\'') && isStringPrefix(src[s.i:j]) {
		s.str(j)
		return
	}
	if s.depth > 0 && statementKeyword(src[s.i:j]) && strings.TrimLeft(src[s.lineOff:s.i], " \t") == "" {
		s.emit(Newline, s.i, s.i) // a bracket left open: no line inside one starts so
		s.code, s.depth = false, 0
	}
	s.emit(Name, s.i, j)
	s.i = j
}

// number reads a number, liberally: a linter reports what is wrong with
// 0777, 10L or 1_000 better than a lexer that splits them.
func (s *scanner) number() {
	src := s.src
	j := s.i + 1
	hex := src[s.i] == '0' && j < len(src) && (src[j] == 'x' || src[j] == 'X')
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
	s.emit(Number, s.i, j)
	s.i = j
}

// str reads the string whose prefix starts at s.i and whose quote is at q.
func (s *scanner) str(q int) {
	src := s.src
	quote := src[q : q+1]
	if strings.HasPrefix(src[q:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	t := s.emit(String, s.i, s.i)
	t.Prefix, t.Quote = src[s.i:q], quote
	i := q + len(quote)
	for {
		switch {
		case i >= len(src):
			t.Bad = true
		case src[i] == '\\' && i+1 < len(src):
			if src[i+1] == '\n' {
				s.newline(i + 2)
			}
			i += 2
			continue
		case strings.HasPrefix(src[i:], quote):
			i += len(quote)
		case src[i] == '\n' && len(quote) == 1:
			t.Bad = true
		case src[i] == '\n':
			i++
			s.newline(i)
			continue
		default:
			i++
			continue
		}
		break
	}
	i = min(i, len(src))
	t.End, t.Text = i, src[t.Off:i]
	s.i = i
}

// opLen is the length of the operator at the start of s: Python's
// longest match, Python 2's <> included; any other byte is one.
func opLen(s string) int {
	if len(s) >= 3 {
		switch s[:3] {
		case "**=", "//=", ">>=", "<<=", "...":
			return 3
		}
	}
	if len(s) >= 2 {
		switch s[:2] {
		case "->", ":=", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "<>",
			"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=":
			return 2
		}
	}
	return 1
}

// isIdentStart: any byte of a multi-byte character may start or continue
// a name, as Python 3 allows letters of every script.
func isIdentStart(c byte) bool {
	return c == '_' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isStringPrefix: r, u, b, f and their pairs, in either case (ur is
// Python 2's).
func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "f", "br", "rb", "ur", "fr", "rf":
		return true
	}
	return false
}
