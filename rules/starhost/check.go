package starhost

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.starlark.net/syntax"
)

// Finding is a line of a Python script that Starlark cannot run as it is,
// with how to port it.
type Finding struct {
	Line int
	What string
	Hint string
}

var portingRules = []struct {
	re         *regexp.Regexp
	what, hint string
}{
	{regexp.MustCompile(`^\s*(try\s*:|except\b.*:|finally\s*:)`), "try/except", "call the risky part through catch(fn, *args) and test .error (.error.pam_result for PAM failures)"},
	{regexp.MustCompile(`^\s*raise\b`), "raise", "return a PAM code (pamh.PAM_AUTH_ERR…) instead"},
	{regexp.MustCompile(`^\s*class\s+\w+`), "class", "use functions, and dicts or the host's structs for data"},
	{regexp.MustCompile(`^\s*global\s+\w+`), "global", "keep changing module state in a dict: state = {} at the top, state[\"x\"] = … in functions"},
	{regexp.MustCompile(`^\s*del\s+`), "del", "use dict.pop(key) or list.remove(value)"},
	{regexp.MustCompile(`^\s*with\s+.+\s+as\s+\w+\s*:`), "with", "f = open(path) then f.read(); files need no closing here"},
	{regexp.MustCompile(`^\s*assert\b`), "assert", "if not CONDITION: return pamh.PAM_SERVICE_ERR"},
	{regexp.MustCompile(`(^|[^\w])[fF]"|(^|[^\w])[fF]'`), "f-string", "use \"…%s…\" % (x,) or \"{}\".format(x)"},
	{regexp.MustCompile(`^\s*print\s+[^(\s]`), "print statement", "print(x); it goes to syslog"},
	{regexp.MustCompile(`(^|[^\w.])0[0-7]+\b`), "legacy octal", "write 0o700, not 0700"},
	{regexp.MustCompile(`\b(is|is\s+not)\s+[^NTF\s]`), "is", "compare with == or !=; `is None`, `is True`, `is False` are rewritten for you"},
}

// CheckScript reports what in a Python script is outside the supported
// subset, each with its line and a porting hint, then whether it compiles.
func CheckScript(name string, src []byte) (findings []Finding, compileErr error) {
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		code := stripStrings(line)
		for _, r := range portingRules {
			if r.re.MatchString(code) {
				findings = append(findings, Finding{i + 1, r.what, r.hint})
			}
		}
		if chained(code) {
			findings = append(findings, Finding{i + 1, "chained comparison", "a < b < c becomes a < b and b < c"})
		}
	}
	if _, err := Compile(name, src); err != nil {
		var pe *PrepareError
		var se syntax.Error
		switch {
		case errors.As(err, &pe):
			findings = append(findings, Finding{pe.Line, "import", pe.Msg})
		case errors.As(err, &se):
			if !reported(findings, int(se.Pos.Line)) {
				findings = append(findings, Finding{int(se.Pos.Line), "syntax", se.Msg})
			}
		default:
			return findings, err
		}
		return findings, fmt.Errorf("does not compile yet")
	}
	return findings, nil
}

// chained reports two comparisons in a row at one bracket depth, with no
// and, or, comma or colon between them: a < b < c.
func chained(code string) bool {
	ops := map[int]int{} // comparisons seen per depth since the last separator
	depth := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			ops[depth] = 0
			depth--
		case c == ',' || c == ':':
			ops[depth] = 0
		case strings.HasPrefix(code[i:], " and ") || strings.HasPrefix(code[i:], " or "):
			ops[depth] = 0
		case (c == '<' || c == '>') && i+1 < len(code) && code[i+1] == c:
			i++ // a shift, not a comparison
		case c == '<' || c == '>' || (c == '=' || c == '!') && i+1 < len(code) && code[i+1] == '=':
			if i+1 < len(code) && code[i+1] == '=' {
				i++
			}
			ops[depth]++
			if ops[depth] == 2 {
				return true
			}
		}
	}
	return false
}

func reported(f []Finding, line int) bool {
	for _, x := range f {
		if x.Line == line {
			return true
		}
	}
	return false
}

// stripStrings blanks comments and the insides of simple string literals,
// so words in them are not taken for code.
func stripStrings(line string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
			b.WriteByte(c)
		case quote != 0:
			b.WriteByte(' ')
		case c == '#':
			return b.String()
		case c == '"' || c == '\'':
			quote = c
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
