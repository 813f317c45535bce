package pylex

import "strings"

// Line is a logical line: the code tokens of one statement, or of a
// compound statement's header with what follows its colon.
type Line struct {
	Tokens      []Token // no Comment, NL or Newline
	First, Last int     // its physical lines
	Indent      string  // the white space before its first token
	Width       int     // Indent's width, tabs to the next multiple of 8 as Python and Starlark count
}

// Lines groups src's code tokens into logical lines. Lines with no code
// (blank, comment only) are none.
func Lines(src string) []Line {
	var out []Line
	var cur []Token
	for _, t := range Tokens(src) {
		switch t.Kind {
		case Comment, NL:
		case Newline:
			if len(cur) > 0 {
				out = append(out, newLine(src, cur))
			}
			cur = nil
		default:
			cur = append(cur, t)
		}
	}
	return out // Tokens ends every line with code in a Newline
}

func newLine(src string, toks []Token) Line {
	first, end := toks[0], toks[len(toks)-1]
	indent := src[first.LineOff:first.Off]
	return Line{Tokens: toks, First: first.Line, Last: end.Line + strings.Count(end.Text, "\n"),
		Indent: indent, Width: Width(indent)}
}

// Width is the width of an indentation, tabs to the next multiple of 8.
func Width(indent string) int {
	w := 0
	for _, c := range indent {
		if c == '\t' {
			w = w/8*8 + 8
		} else {
			w++
		}
	}
	return w
}
