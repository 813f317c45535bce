package pycheck

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

// Rules for expressions: operators, literals, calls and attributes.

// expressions checks every token of a logical line.
func (a *analysis) expressions(L *logical) {
	toks := L.Tokens
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
		switch t.Kind {
		case pylex.String:
			a.stringToken(toks, i)
		case pylex.Number:
			a.number(t)
		case pylex.Op:
			switch t.Text {
			case "<>":
				a.py2(t, "<> is Python 2's !=", "!=")
				a.edit(t.Off, t.End, "!=")
			case "`":
				ticks = append(ticks, i)
			case "**":
				if i > 0 && operand(prev) {
					a.sla(t, "**", "Starlark has no power operator", "multiply, or write the number out")
					a.sledit(t.Off, t.End, "*")
				}
			case ":=":
				a.sla(t, ":=", "Starlark has no assignment expressions", "assign on a line of its own first")
			case "(":
				a.generator(toks, i)
			case "{":
				a.set(toks, i)
			case ".":
				if next.Kind == pylex.Name && i+2 < len(toks) && toks[i+2].IsOp("(") {
					a.method(toks, i)
				}
			}
		case pylex.Name:
			if prev.IsOp(".") || prev.IsName("def") || prev.IsName("class") {
				continue
			}
			switch t.Text {
			case "yield":
				if i > 0 {
					a.sla(t, "yield", "Starlark has no generators", "build a list and return it")
				}
			case "await":
				a.sla(t, "await", "Starlark has no async/await", "drop await")
				a.sledit(t.Off, t.End, strings.Repeat(" ", len(t.Text)))
			}
			if b, ok := py2Builtins[t.Text]; ok && !a.bound[t.Text] && !next.IsOp("=") && (!b.call || next.IsOp("(")) {
				a.py2name(t, t.Text+" is Python 2 only", b.fix)
			}
			if next.IsOp(".") && i+2 < len(toks) && toks[i+2].Kind == pylex.Name {
				a.attribute(toks, i)
			}
		}
	}
	for k := 0; k+1 < len(ticks); k += 2 {
		open, close := toks[ticks[k]], toks[ticks[k+1]]
		a.py2(open, "backticks are Python 2's repr()", short("repr("+a.src[open.End:close.Off]+")"))
		a.edit(open.Off, open.End, "repr(")
		a.edit(close.Off, close.End, ")")
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
	if a.assigned[t.Text] {
		return // a variable of the script's, whatever it imports by that name
	}
	mod, ok := a.imported[t.Text]
	if !ok {
		if _, host := starhost.ModuleMembers(t.Text); !host || a.bound[t.Text] {
			return
		}
		mod = t.Text // the host's modules are there without an import
	}
	if fix, ok := py2Attrs[mod][attr.Text]; ok {
		a.py2name(attr, mod+"."+attr.Text+" is Python 2 only", fix)
		return
	}
	if !a.sl {
		return
	}
	if mod == "os" && attr.Text == "path" && i+4 < len(toks) && toks[i+3].IsOp(".") && toks[i+4].Kind == pylex.Name {
		mod, attr = "os.path", toks[i+4]
	}
	if ok, has := hasAttr(mod, attr.Text); !ok {
		a.sla(attr, mod+"."+attr.Text, "the Starlark engine's "+mod+" has no "+attr.Text, hostAttrFix(mod, attr.Text, has))
	}
}

// method checks .name( calls: Python 2 dict methods; string methods that
// Starlark lacks.
func (a *analysis) method(toks []token, dot int) {
	name := toks[dot+1]
	if a.bound[name.Text] || dot > 0 && toks[dot-1].Kind == pylex.Name && a.imported[toks[dot-1].Text] != "" {
		return // the script's own method, or a module's function
	}
	switch {
	case name.Text == "has_key":
		end := closing(toks, dot+2)
		arg := "key"
		if end > 0 {
			arg = a.src[toks[dot+2].End:toks[end].Off]
		}
		start := dot - 1
	receiver:
		for start > 0 {
			switch p := toks[start]; {
			case p.IsOp(")") || p.IsOp("]"):
				o := opening(toks, start)
				if o > 0 && operand(toks[o-1]) {
					start = o - 1 // a call or a subscript
					continue
				}
				if o >= 0 {
					start = o // (a or b)
				}
				break receiver
			case p.Kind == pylex.Name && toks[start-1].IsOp("."):
				start -= 2
				continue
			}
			break
		}
		recv := "d"
		if start >= 0 && start < dot {
			recv = a.src[toks[start].Off:toks[dot].Off]
		}
		a.py2name(name, "dict.has_key() is Python 2 only", short(strings.TrimSpace(arg)+" in "+recv))
	case py2Methods[name.Text] != "":
		a.py2name(name, "."+name.Text+"() is Python 2 only", "."+py2Methods[name.Text]+"()")
	case name.Text == "encode" || name.Text == "decode":
		a.sla(name, "."+name.Text+"()", "Starlark strings have no ."+name.Text+"()", "drop it: strings here are UTF-8 text already")
	}
}

// stringToken: Python 2 ur"" strings; prefixes, escapes and formats the
// Starlark engine does not take.
func (a *analysis) stringToken(toks []token, i int) {
	t := toks[i]
	p := t.Prefix
	lp := strings.ToLower(p)
	if strings.Contains(lp, "u") && strings.Contains(lp, "r") {
		k := strings.IndexAny(p, "uU")
		a.py2(t, p+"\"…\" strings are Python 2 only", strings.Replace(p, p[k:k+1], "", 1)+t.Quote+"…"+t.Quote)
		a.edit(t.Off+k, t.Off+k+1, " ")
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
		a.sla(t, "string prefix", "Starlark takes r, b and rb prefixes, in lower case", np+t.Quote+"…"+t.Quote)
	}
	if np != p {
		a.sledit(t.Off, t.Off+len(p), strings.Repeat(" ", len(p)-len(np))+np)
	}
	if t.Bad {
		return
	}
	body := t.Text[len(p)+len(t.Quote) : len(t.Text)-len(t.Quote)]
	bodyOff := t.Off + len(p) + len(t.Quote)
	if !strings.Contains(lp, "r") {
		a.escapes(t, body, bodyOff, strings.Contains(lp, "b"))
	}
	if i+1 < len(toks) && toks[i+1].IsOp("%") {
		for _, m := range percentRe.FindAllStringSubmatch(body, -1) {
			if m[2] != "" || m[3] != "" || m[4] != "" {
				a.sla(t, "format", "Starlark's % has no width, precision or flags ("+m[0]+")", "%s or %d, padded by hand")
				break
			}
		}
	}
	if i+2 < len(toks) && toks[i+1].IsOp(".") && toks[i+2].IsName("format") {
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

var (
	intRe   = regexp.MustCompile(`^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$`)
	octalRe = regexp.MustCompile(`^0[0-9]+$`)
)

func (a *analysis) number(t token) {
	s := t.Text
	long := false
	if n := len(s); n > 1 && (s[n-1] == 'l' || s[n-1] == 'L') && intRe.MatchString(s[:n-1]) {
		long, s = true, s[:n-1]
	}
	if octalRe.MatchString(s) && strings.Trim(s, "0") != "" {
		digits := strings.TrimLeft(s, "0")
		if strings.ContainsAny(digits, "89") {
			a.add(Finding{Line: t.Line, Col: t.Col, What: "number", Why: "a decimal number cannot start with 0", Fix: digits})
			a.edit(t.Off, t.End, digits)
			return
		}
		a.py2(t, t.Text+" is a Python 2 octal literal", "0o"+digits)
		a.edit(t.Off, t.End, "0o"+digits)
		return
	}
	if long {
		a.py2(t, t.Text+": long literals are Python 2 only", s)
		a.edit(t.Off, t.End, s)
	}
	switch {
	case strings.Contains(s, "_"):
		a.sla(t, "number", "Starlark numbers have no _", strings.ReplaceAll(s, "_", ""))
		a.sledit(t.Off, t.End, strings.ReplaceAll(s, "_", ""))
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
		case t.IsOp("(") || t.IsOp("[") || t.IsOp("{"):
			depth++
		case t.IsOp(")") || t.IsOp("]") || t.IsOp("}"):
			depth--
		case depth == 0 && t.IsName("for"):
			a.sla(toks[i], "generator expression", "Starlark has no generator expressions", "a list comprehension: any([x for x in xs])")
			if i > 0 && operand(toks[i-1]) {
				a.sledit(toks[i].End, toks[i].End, "[")
				a.sledit(toks[k].Off, toks[k].Off, "]")
			} else {
				a.sledit(toks[i].Off, toks[i].End, "[")
				a.sledit(toks[k].Off, toks[k].End, "]")
			}
			return
		}
	}
}

// set: `{a, b}` and `{x for x in y}`.
func (a *analysis) set(toks []token, i int) {
	k := closing(toks, i)
	if k < 0 || k == i+1 || toks[i+1].IsOp("**") {
		return
	}
	depth, lambdas := 0, 0
	for j := i + 1; j < k; j++ {
		t := toks[j]
		switch {
		case t.IsOp("(") || t.IsOp("[") || t.IsOp("{"):
			depth++
		case t.IsOp(")") || t.IsOp("]") || t.IsOp("}"):
			depth--
		case depth == 0 && t.IsName("lambda"):
			lambdas++
		case depth == 0 && t.IsOp(":"):
			if lambdas == 0 {
				return // a dict
			}
			lambdas--
		}
	}
	a.sla(toks[i], "set", "Starlark has no set literals", "set([a, b]), or set([x for x in xs])")
	a.sledit(toks[i].Off, toks[i].End, "set([")
	a.sledit(toks[k].Off, toks[k].End, "])")
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
			a.sledit(toks[i].Off, toks[j].End, "and")
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind == pylex.Op {
			switch {
			case t.IsOp("(") || t.IsOp("[") || t.IsOp("{"):
				depth++
				counts[depth], forIn[depth] = 0, false
			case t.IsOp(")") || t.IsOp("]") || t.IsOp("}"):
				depth--
			case resetOps[t.Text]:
				counts[depth] = 0
			case cmpOps[t.Text]:
				cmp(i, i)
			}
			continue
		}
		if t.Kind != pylex.Name {
			continue
		}
		switch t.Text {
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
			if i > 0 && i+1 < len(toks) && toks[i+1].IsName("in") && operand(toks[i-1]) {
				cmp(i, i+1)
				i++
			} else {
				counts[depth] = 0
			}
		case "is":
			j := i
			if i+1 < len(toks) && toks[i+1].IsName("not") {
				j = i + 1
			}
			cmp(i, j)
			if j+1 < len(toks) {
				if v := toks[j+1]; !v.IsName("None") && !v.IsName("True") && !v.IsName("False") {
					a.sla(t, "is", "Starlark has no is", "== or != (is None, is not None, is True, is False are rewritten for you)")
					op := "=="
					if j > i {
						op = "!="
					}
					a.sledit(t.Off, toks[j].End, op)
				}
			}
			i = j
		case "and", "or", "if", "else", "lambda", "return", "yield", "assert", "elif", "while", "with", "as", "del", "raise", "print", "import":
			counts[depth] = 0
		}
	}
}
