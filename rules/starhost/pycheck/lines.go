package pycheck

import (
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

// How the linter reads a script: tokens, logical lines, brackets and
// statements.

// token is pylex's: the linter reads scripts as the pre-pass does.
type token = pylex.Token

// logical is a logical line and its place among the script's.
type logical struct {
	pylex.Line
	index int
}

// tokenize reads a script's logical lines. Comments and the insides of
// strings are never taken for code, and a bracket left open costs one
// line, not the rest of the script (pylex.Tokens).
func tokenize(src string) []*logical {
	lines := pylex.Lines(src)
	out := make([]*logical, len(lines))
	for i := range lines {
		out[i] = &logical{Line: lines[i], index: i}
	}
	return out
}

// closing is the index of the bracket that closes toks[i], or -1.
func closing(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		if toks[j].Kind != pylex.Op {
			continue
		}
		switch toks[j].Text {
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
		if toks[j].Kind != pylex.Op {
			continue
		}
		switch toks[j].Text {
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
		if t.Kind != pylex.Op {
			continue
		}
		switch t.Text {
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

var compoundKeywords = map[string]bool{"if": true, "elif": true, "else": true, "for": true, "while": true, "try": true,
	"except": true, "finally": true, "with": true, "def": true, "class": true, "async": true}

// headerColon is the index of the colon that ends a compound statement's
// header, or -1 for a line that is no compound statement.
func headerColon(toks []token) int {
	if len(toks) == 0 || toks[0].Kind != pylex.Name || !compoundKeywords[toks[0].Text] {
		return -1
	}
	depth, lambdas := 0, 0
	for i, t := range toks {
		switch {
		case t.Kind == pylex.Op && strings.ContainsAny(t.Text, "([{") && len(t.Text) == 1:
			depth++
		case t.Kind == pylex.Op && strings.ContainsAny(t.Text, ")]}") && len(t.Text) == 1:
			depth--
		case depth == 0 && t.IsName("lambda"):
			lambdas++
		case depth == 0 && t.IsOp(":"):
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
	toks := L.Tokens
	if c := headerColon(toks); c >= 0 {
		toks = toks[c+1:]
	} else if len(toks) > 0 && toks[0].Kind == pylex.Name && compoundKeywords[toks[0].Text] {
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
		if t.IsName(kw) {
			return true
		}
	}
	return false
}

// operand reports whether t ends an operand, so that what follows is a
// binary operator or a call.
func operand(t token) bool {
	switch t.Kind {
	case pylex.Number, pylex.String:
		return true
	case pylex.Name:
		return !pylex.Keyword(t.Text) || t.Text == "None" || t.Text == "True" || t.Text == "False"
	}
	return t.IsOp(")") || t.IsOp("]") || t.IsOp("}")
}
