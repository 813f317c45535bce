package pylex

import (
	"fmt"
	"strings"
	"testing"
)

// brief is a token as `kind "text" line:col`, with a string's prefix,
// quote and badness.
func brief(toks []Token) string {
	var out []string
	for _, t := range toks {
		s := fmt.Sprintf("%s %q %d:%d", t.Kind, t.Text, t.Line, t.Col)
		if t.Kind == String {
			s += fmt.Sprintf(" [%s|%s]", t.Prefix, t.Quote)
		}
		if t.Bad {
			s += " bad"
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

func TestTokens(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"names and keywords", "if x is not None:", []string{
			`name "if" 1:1`, `name "x" 1:4`, `name "is" 1:6`, `name "not" 1:9`, `name "None" 1:13`, `op ":" 1:17`, `newline "" 1:18`}},
		{"numbers", "0x1f 1.5e-3 .5 0777 10L 1_000 2j 0XffL", []string{
			`number "0x1f" 1:1`, `number "1.5e-3" 1:6`, `number ".5" 1:13`, `number "0777" 1:16`, `number "10L" 1:21`,
			`number "1_000" 1:25`, `number "2j" 1:31`, `number "0XffL" 1:34`, `newline "" 1:39`}},
		{"hex e is a digit, not an exponent", "0x1e-1", []string{`number "0x1e" 1:1`, `op "-" 1:5`, `number "1" 1:6`, `newline "" 1:7`}},
		{"string prefixes", `r"\d" b'x' u"x" f"{a}" Rb"x" bR'x' ur"x" FR"x" rf'x'`, []string{
			`string "r\"\\d\"" 1:1 [r|"]`, `string "b'x'" 1:7 [b|']`, `string "u\"x\"" 1:12 [u|"]`, `string "f\"{a}\"" 1:17 [f|"]`,
			`string "Rb\"x\"" 1:24 [Rb|"]`, `string "bR'x'" 1:30 [bR|']`, `string "ur\"x\"" 1:36 [ur|"]`,
			`string "FR\"x\"" 1:42 [FR|"]`, `string "rf'x'" 1:48 [rf|']`, `newline "" 1:53`}},
		{"not a prefix", `xr"a"`, []string{`name "xr" 1:1`, `string "\"a\"" 1:3 [|"]`, `newline "" 1:6`}},
		{"escapes", `"a\"b" 'it\'s' "\\"`, []string{
			`string "\"a\\\"b\"" 1:1 [|"]`, `string "'it\\'s'" 1:8 [|']`, `string "\"\\\\\"" 1:16 [|"]`, `newline "" 1:20`}},
		{"triple-quoted over lines", "x = \"\"\"a\nimport os\nb\"\"\" + y\nz", []string{
			`name "x" 1:1`, `op "=" 1:3`, `string "\"\"\"a\nimport os\nb\"\"\"" 1:5 [|"""]`, `op "+" 3:6`, `name "y" 3:8`,
			`newline "\n" 3:9`, `name "z" 4:1`, `newline "" 4:2`}},
		{"quotes inside a triple-quoted string", `'''it's "x" ''' 1`, []string{
			`string "'''it's \"x\" '''" 1:1 [|''']`, `number "1" 1:17`, `newline "" 1:18`}},
		{"a backslash line break in a string", "'a\\\nb' c", []string{`string "'a\\\nb'" 1:1 [|']`, `name "c" 2:4`, `newline "" 2:5`}},
		{"unterminated string ends at its line", "s = 'abc\nx", []string{
			`name "s" 1:1`, `op "=" 1:3`, `string "'abc" 1:5 [|'] bad`, `newline "\n" 1:9`, `name "x" 2:1`, `newline "" 2:2`}},
		{"unterminated triple ends at the end", "s = '''abc\nx", []string{
			`name "s" 1:1`, `op "=" 1:3`, `string "'''abc\nx" 1:5 [|'''] bad`, `newline "" 2:2`}},
		{"a lone quote at the end", `"`, []string{`string "\"" 1:1 [|"] bad`, `newline "" 1:2`}},
		{"comments are not code", "x = 1  # is None\n# import os\n", []string{
			`name "x" 1:1`, `op "=" 1:3`, `number "1" 1:5`, `comment "# is None" 1:8`, `newline "\n" 1:17`,
			`comment "# import os" 2:1`, `nl "\n" 2:12`}},
		{"blank lines are nl", "\n\nx\n\n", []string{`nl "\n" 1:1`, `nl "\n" 2:1`, `name "x" 3:1`, `newline "\n" 3:2`, `nl "\n" 4:1`}},
		{"inside brackets, nl", "f(a,\n  b)\n", []string{
			`name "f" 1:1`, `op "(" 1:2`, `name "a" 1:3`, `op "," 1:4`, `nl "\n" 1:5`, `name "b" 2:3`, `op ")" 2:4`, `newline "\n" 2:5`}},
		{"backslash continuation", "x = 1 + \\\n  2\n", []string{
			`name "x" 1:1`, `op "=" 1:3`, `number "1" 1:5`, `op "+" 1:7`, `number "2" 2:3`, `newline "\n" 2:4`}},
		{"backslash continuation, CRLF", "x = \\\r\n2\r\n", []string{`name "x" 1:1`, `op "=" 1:3`, `number "2" 2:1`, `newline "\n" 2:3`}},
		{"operators, longest first", "a **= b // c <> d -> ... := @= ! $", []string{
			`name "a" 1:1`, `op "**=" 1:3`, `name "b" 1:7`, `op "//" 1:9`, `name "c" 1:12`, `op "<>" 1:14`, `name "d" 1:17`,
			`op "->" 1:19`, `op "..." 1:22`, `op ":=" 1:26`, `op "@=" 1:29`, `op "!" 1:32`, `op "$" 1:34`, `newline "" 1:35`}},
		{"backticks", "`x`", []string{`op "` + "`" + `" 1:1`, `name "x" 1:2`, `op "` + "`" + `" 1:3`, `newline "" 1:4`}},
		{"columns count runes", "s = 'äö' + é", []string{
			`name "s" 1:1`, `op "=" 1:3`, `string "'äö'" 1:5 [|']`, `op "+" 1:10`, `name "é" 1:12`, `newline "" 1:13`}},
		{"a byte order mark", "\ufeffx", []string{`name "x" 1:2`, `newline "" 1:3`}},
		{"a bracket left open ends at a statement keyword", "x = (1,\ndef f():\n    return [\n    pass\n", []string{
			`name "x" 1:1`, `op "=" 1:3`, `op "(" 1:5`, `number "1" 1:6`, `op "," 1:7`, `nl "\n" 1:8`,
			`newline "" 2:1`, `name "def" 2:1`, `name "f" 2:5`, `op "(" 2:6`, `op ")" 2:7`, `op ":" 2:8`, `newline "\n" 2:9`,
			`name "return" 3:5`, `op "[" 3:12`, `nl "\n" 3:13`, `newline "" 4:5`, `name "pass" 4:5`, `newline "\n" 4:9`}},
		{"if and for may be inside brackets", "x = [a\n  for a in b\n  if a]\n", []string{
			`name "x" 1:1`, `op "=" 1:3`, `op "[" 1:5`, `name "a" 1:6`, `nl "\n" 1:7`, `name "for" 2:3`, `name "a" 2:7`,
			`name "in" 2:9`, `name "b" 2:12`, `nl "\n" 2:13`, `name "if" 3:3`, `name "a" 3:6`, `op "]" 3:7`, `newline "\n" 3:8`}},
		{"a stray closing bracket", ")\nx", []string{`op ")" 1:1`, `newline "\n" 1:2`, `name "x" 2:1`, `newline "" 2:2`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := brief(Tokens(tt.src))
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("%q:\ngot\n%s\nwant\n%s", tt.src, got, want)
			}
		})
	}
}

func TestLines(t *testing.T) {
	src := "import os  # c\n\nif x:\n\tif y: f(1,\n\t        2)\n  \n    s = \"\"\"a\nb\"\"\"\n"
	var got []string
	for _, l := range Lines(src) {
		var texts []string
		for _, t := range l.Tokens {
			texts = append(texts, t.Text)
		}
		got = append(got, fmt.Sprintf("%d-%d %q %d: %s", l.First, l.Last, l.Indent, l.Width, strings.Join(texts, " ")))
	}
	want := []string{
		`1-1 "" 0: import os`,
		`3-3 "" 0: if x :`,
		`4-5 "\t" 8: if y : f ( 1 , 2 )`,
		`7-8 "    " 4: s = """a` + "\n" + `b"""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWidth(t *testing.T) {
	for in, want := range map[string]int{"": 0, "    ": 4, "\t": 8, "  \t": 8, "\t  ": 10, "        \t": 16, "\t\t": 16} {
		if got := Width(in); got != want {
			t.Errorf("Width(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestKeyword(t *testing.T) {
	for _, k := range []string{"None", "is", "not", "import", "from", "lambda", "async", "await"} {
		if !Keyword(k) {
			t.Errorf("%s is a keyword", k)
		}
	}
	for _, k := range []string{"print", "exec", "none", "self", "match", ""} {
		if Keyword(k) {
			t.Errorf("%s is no keyword", k)
		}
	}
}
