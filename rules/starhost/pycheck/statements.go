package pycheck

import (
	"fmt"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

// Rules for statements: compound headers, simple statements, imports.

const catchFix = "call the risky part through catch(fn, *args) and test .error (.error.pam_result for PAM failures)"

// header checks a compound statement's header: kw is its keyword, prev
// the keyword of the compound statement before it at the same indentation.
func (a *analysis) header(L *logical, kw, prev string) {
	toks := L.Tokens
	c := headerColon(toks)
	if kw == "" || c < 0 {
		return
	}
	ki := 0
	if toks[0].IsName("async") {
		ki = 1
	}
	kt := toks[ki]
	replace := func(text string) { a.sledit(kt.Off, toks[c].End, text) }
	switch kw {
	case "try", "finally":
		a.sla(kt, "try/except", "Starlark has no exceptions", catchFix)
		replace("if True:")
	case "except":
		inner := toks[ki+1 : c]
		target := ""
		if parts := split(inner, ","); len(parts) >= 2 {
			last := parts[len(parts)-1]
			if len(last) == 1 && last[0].Kind == pylex.Name {
				comma := inner[len(inner)-2]
				a.py2(kt, "`except E, e:` is Python 2 only", short("except "+a.src[inner[0].Off:comma.Off]+" as "+last[0].Text+":"))
				a.edit(comma.Off, comma.End, " as")
				target = last[0].Text
			}
		}
		for j := ki + 1; j+1 < c; j++ {
			if toks[j].IsName("as") && toks[j+1].Kind == pylex.Name {
				target = toks[j+1].Text
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
			if toks[j].IsName("as") {
				for k := j + 1; k < c && !toks[k].IsOp(","); k++ {
					if toks[k].Kind == pylex.Name {
						targets = append(targets, toks[k].Text)
					}
					if !toks[k].IsOp("(") && !toks[k].IsOp(")") && toks[k].Kind != pylex.Name {
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
		if ki+1 < c && toks[ki+1].Kind == pylex.Name {
			name = toks[ki+1].Text
		}
		replace("def " + name + "():")
	case "def":
		a.defHeader(toks, ki, c)
	}
}

// defHeader: Python 2 tuple parameters; annotations, which Starlark lacks.
func (a *analysis) defHeader(toks []token, ki, c int) {
	if ki+2 >= c || !toks[ki+2].IsOp("(") {
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
		case t.IsOp("(") || t.IsOp("[") || t.IsOp("{"):
			if depth == 0 && (toks[j-1].IsOp("(") || toks[j-1].IsOp(",")) && t.IsOp("(") {
				a.py2(t, "tuple parameters are Python 2 only", "take one name and unpack it in the body: def f(a, pair): x, y = pair")
			}
			depth++
		case t.IsOp(")") || t.IsOp("]") || t.IsOp("}"):
			depth--
		case depth == 0 && t.IsOp(":"):
			k, d := j+1, 0
			for ; k < end; k++ {
				if toks[k].IsOp("(") || toks[k].IsOp("[") || toks[k].IsOp("{") {
					d++
				} else if toks[k].IsOp(")") || toks[k].IsOp("]") || toks[k].IsOp("}") {
					d--
				} else if d == 0 && (toks[k].IsOp(",") || toks[k].IsOp("=")) {
					break
				}
			}
			annotation(t)
			a.sledit(t.Off, toks[k].Off, "")
			j = k - 1
		}
	}
	if end+1 < c && toks[end+1].IsOp("->") {
		annotation(toks[end+1])
		a.sledit(toks[end+1].Off, toks[c].Off, "")
	}
}

// statement checks a simple statement.
func (a *analysis) statement(L *logical, s []token) {
	t := s[0]
	mask := func() { a.sledit(t.Off, s[len(s)-1].End, "pass") }
	if t.Kind != pylex.Name {
		a.annotation(s)
		return
	}
	switch t.Text {
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
			if msg[0].IsOp("(") && closing(msg, 0) == len(msg)-1 {
				a.edit(comma.Off, msg[0].End, "(") // raise E, (a, b) is raise E(a, b)
			} else {
				a.edit(comma.Off, msg[0].Off, "(")
				a.edit(msg[len(msg)-1].End, msg[len(msg)-1].End, ")")
			}
			if len(parts) == 3 && len(parts[2]) > 0 {
				comma2 := s[1+len(parts[0])+1+len(parts[1])]
				a.edit(comma2.Off, parts[2][0].Off, ".with_traceback(")
				a.edit(end.End, end.End, ")")
			}
			a.fixLater(t.Off, end.End)
		}
		a.sla(t, "raise", "Starlark has no exceptions", "return a PAM code (pamh.PAM_AUTH_ERR…), or fail(\"why\") to stop with an error")
		mask()
	case "global", "nonlocal":
		a.sla(t, t.Text, "a Starlark function cannot rebind a global",
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
		case t.IsOp("(") || t.IsOp("[") || t.IsOp("{"):
			depth++
		case t.IsOp(")") || t.IsOp("]") || t.IsOp("}"):
			depth--
		case depth == 0 && t.IsName("lambda"):
			return
		case depth == 0 && t.IsOp(":") && j > 0:
			eq := -1
			for k := j + 1; k < len(s); k++ {
				if s[k].IsOp("=") {
					eq = k
					break
				}
			}
			if eq > 0 {
				a.sla(t, "annotation", "Starlark has no type annotations", short(a.text(s[:j])+" "+a.text(s[eq:])))
				a.sledit(t.Off, s[eq].Off, " ")
			} else {
				a.sla(t, "annotation", "Starlark has no type annotations", "drop the line")
				a.sledit(s[0].Off, s[len(s)-1].End, "pass")
			}
			return
		}
	}
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
		case m.level > 0 || !starhost.Importable(m.name):
			name := strings.Repeat(".", m.level) + m.name
			a.sla(m.tok, "import", fmt.Sprintf("module %q is not available in the Starlark engine (it has %s)", name, strings.Join(starhost.ModuleNames(), ", ")),
				"drop it, or run the script in real Python: interpreter=/usr/bin/python3 on the module line")
			unknown = true
		}
	}
	if !unknown {
		switch {
		case im.star:
			a.sla(s[0], "import", "`from "+im.modules[0].name+" import *` is not supported", "name what you use: from "+im.modules[0].name+" import a, b")
			unknown = true
		case s[0].Line != s[len(s)-1].Line:
			a.sla(s[0], "import", "an import must fit on one line here", "write it on one line")
			unknown = true
		case L.Tokens[0].Off != s[0].Off || L.Tokens[len(L.Tokens)-1].Off != s[len(s)-1].Off:
			a.sla(s[0], "import", "an import must be alone on its line here", "one import statement per line")
			unknown = true
		case im.from:
			mod := im.modules[0].name
			for _, n := range im.names {
				if ok, has := hasAttr(mod, n.Text); !ok {
					a.sla(n, mod+"."+n.Text, "the Starlark engine's "+mod+" has no "+n.Text, hostAttrFix(mod, n.Text, has))
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
		a.sledit(s[0].Off, s[len(s)-1].End, text)
	}
}

// hasAttr reports whether the host's module has a member, and the members
// it has.
func hasAttr(module, attr string) (bool, []string) {
	names, ok := starhost.ModuleMembers(module)
	if !ok {
		return true, nil
	}
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
		if r.Kind == pylex.Op && !r.IsOp("(") && !r.IsOp("[") && !r.IsOp(">>") && !r.IsOp("-") && !r.IsOp("+") && !r.IsOp("~") && !r.IsOp("`") && !r.IsOp("{") {
			return // print = …, print.x: not the statement
		}
		if r.Kind == pylex.Name && (pylex.Keyword(r.Text) && r.Text != "not" && r.Text != "lambda" && r.Text != "None" && r.Text != "True" && r.Text != "False") {
			return
		}
		if r.IsOp("(") && closing(rest, 0) == len(rest)-1 {
			return // print(…)
		}
	}
	end := s[len(s)-1]
	var extras []string
	args := rest
	if len(args) > 0 && args[0].IsOp(">>") {
		parts := split(args[1:], ",")
		extras = append(extras, "file="+a.text(parts[0]))
		if len(parts[0])+1 < len(args[1:]) {
			args = args[1+len(parts[0])+1:]
		} else {
			args = nil
		}
	}
	var comma *token // print x, (no newline)
	if n := len(args); n > 0 && args[n-1].IsOp(",") {
		comma = &args[n-1]
		args = args[:n-1]
		extras = append([]string{`end=" "`}, extras...)
	}
	a.py2(t, "print is a statement only in Python 2", "")
	closing := strings.Join(extras, ", ") + ")"
	switch {
	case len(args) == 0:
		a.edit(t.End, end.End, "("+closing)
	case comma != nil:
		a.edit(t.End, args[0].Off, "(")
		a.edit(comma.Off, comma.End, ", "+closing)
	default:
		a.edit(t.End, args[0].Off, "(")
		if len(extras) > 0 {
			closing = ", " + closing
		}
		a.edit(args[len(args)-1].End, args[len(args)-1].End, closing)
	}
	a.fixLater(t.Off, end.End)
}

func (a *analysis) execStatement(s []token) {
	rest := s[1:]
	if len(rest) == 0 || rest[0].Kind == pylex.Op && !rest[0].IsOp("(") || rest[0].IsOp("(") && closing(rest, 0) == len(rest)-1 {
		return
	}
	code, ns := rest, []token(nil)
	for j, t := range rest {
		if t.IsName("in") {
			code, ns = rest[:j], rest[j+1:]
			break
		}
	}
	if len(code) == 0 {
		return
	}
	a.py2(s[0], "exec is a statement only in Python 2", "")
	a.edit(s[0].End, code[0].Off, "(")
	if len(ns) > 0 {
		a.edit(code[len(code)-1].End, ns[0].Off, ", ")
	}
	a.edit(s[len(s)-1].End, s[len(s)-1].End, ")")
	a.fixLater(s[0].Off, s[len(s)-1].End)
}
