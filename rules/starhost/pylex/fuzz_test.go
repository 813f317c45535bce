package pylex

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTokens: no input makes the lexer panic; every token is the source
// between its offsets, in order, at the line and column a plain count
// gives; what lies between tokens is white space or a backslash line
// break, so no byte of code is skipped; and every logical line is whole.
func FuzzTokens(f *testing.F) {
	for _, seed := range []string{
		"import syslog, pwd  # for logging\nfrom os import path as p\n",
		"def pam_sm_authenticate(pamh, flags, argv):\n    if pamh.user is not None:\n        return pamh.PAM_SUCCESS\n",
		"HELP = \"\"\"\nimport subprocess\nthe key is None\n\"\"\"\nx = 'a is None'  # is None\n",
		"print \"x\", `y`\nexec code in ns\nn = 0777 + 10L\nif a <> b: pass\ns = ur\"\\d\"\n",
		"x = (1,\ndef f():\n    return [\n\tpass\n",
		"\ufeffs = '\\\r\nx' \\\r\n + \"\"\"\n",
		"'''", "\"\\", "\\", "0x", "1e+", "r'", "ur'''\n\n", "\r\r\n\f\t#", "é = 'ä'\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		toks := Tokens(src)
		end := 0
		if strings.HasPrefix(src, "\ufeff") {
			end = 3
		}
		for _, tok := range toks {
			if tok.Off < end || tok.End < tok.Off || tok.End > len(src) {
				t.Fatalf("%+v after %d, or outside the source", tok, end)
			}
			if tok.Text != src[tok.Off:tok.End] {
				t.Fatalf("%+v: text is not the source %q", tok, src[tok.Off:tok.End])
			}
			if gap := src[end:tok.Off]; !blank(gap) {
				t.Fatalf("skipped %q before %+v", gap, tok)
			}
			line := 1 + strings.Count(src[:tok.Off], "\n")
			lineOff := strings.LastIndexByte(src[:tok.Off], '\n') + 1
			col := utf8.RuneCountInString(src[lineOff:tok.Off]) + 1
			if tok.Line != line || tok.LineOff != lineOff || tok.Col != col {
				t.Fatalf("%+v: at line %d (offset %d), column %d", tok, line, lineOff, col)
			}
			switch tok.Kind {
			case Name, Number, Op, Comment:
				if tok.Text == "" || strings.Contains(tok.Text, "\n") {
					t.Fatalf("%+v: empty, or over lines", tok)
				}
			case String:
				if !strings.HasPrefix(tok.Text, tok.Prefix+tok.Quote) || !tok.Bad && !strings.HasSuffix(tok.Text, tok.Quote) {
					t.Fatalf("%+v: prefix or quotes", tok)
				}
			case Newline, NL:
				if tok.Text != "\n" && (tok.Kind == NL || tok.Text != "") {
					t.Fatalf("%+v: a line break", tok)
				}
			default:
				t.Fatalf("%+v: kind", tok)
			}
			end = tok.End
		}
		if gap := src[end:]; !blank(gap) {
			t.Fatalf("skipped %q at the end", gap)
		}
		lines := 1 + strings.Count(src, "\n")
		for _, l := range Lines(src) {
			if len(l.Tokens) == 0 || l.First < 1 || l.First > l.Last || l.Last > lines || l.Tokens[0].Line != l.First {
				t.Fatalf("line %+v", l)
			}
			for _, tok := range l.Tokens {
				if tok.Kind == Comment || tok.Kind == NL || tok.Kind == Newline {
					t.Fatalf("line %+v holds %+v", l, tok)
				}
			}
		}
	})
}

// blank: white space and backslash line breaks only.
func blank(s string) bool {
	s = strings.ReplaceAll(s, "\\\r\n", "")
	s = strings.ReplaceAll(s, "\\\n", "")
	return strings.Trim(s, " \t\f\r") == ""
}
