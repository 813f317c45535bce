package pycheck

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

// The pass over a script: the names it binds and imports, and each
// logical line through the rules.

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
		toks := L.Tokens
		for len(defs) > 0 && L.Width <= defs[len(defs)-1].indent {
			defs = defs[:len(defs)-1]
		}
		for len(guards) > 0 && L.Width <= guards[len(guards)-1].indent {
			guards = guards[:len(guards)-1]
		}
		a.guarded = false
		for _, g := range guards {
			a.guarded = a.guarded || g.on
		}
		if headerColon(toks) >= 0 {
			on := false
			switch toks[0].Text {
			case "try":
				on = true
			case "if":
				versionTest[L.Width] = versionRe.MatchString(a.text(toks))
				on = versionTest[L.Width]
			case "elif", "else":
				on = versionTest[L.Width]
			case "except": // the fallback of try: import x
				on = fallbackRe.MatchString(a.text(toks))
			}
			guards = append(guards, guard{L.Width, on})
		}
		kw := ""
		if toks[0].Kind == pylex.Name && compoundKeywords[toks[0].Text] {
			kw = toks[0].Text
		}
		if kw == "async" && len(toks) > 1 {
			a.sla(toks[0], "async", "Starlark has no async/await", "drop async; the call runs to its end anyway")
			a.sledit(toks[0].Off, toks[0].End, strings.Repeat(" ", len(toks[0].Text)))
			kw = toks[1].Text
		}
		prev := blocks[L.Width]
		for ind := range blocks {
			if ind > L.Width {
				delete(blocks, ind)
			}
		}
		if kw != "" {
			blocks[L.Width] = kw
		} else {
			delete(blocks, L.Width)
		}
		if toks[0].IsOp("@") {
			a.sla(toks[0], "decorator", "Starlark has no decorators", "call it yourself after the def: f = decorator(f)")
			a.sledit(toks[0].Off, toks[len(toks)-1].End, "")
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
					if t.Kind == pylex.Name && t.Text == f.name && i+1 < len(toks) && toks[i+1].IsOp("(") &&
						(i == 0 || !toks[i-1].IsOp(".") && !toks[i-1].IsName("def")) {
						a.sla(t, "recursion", f.name+" calls itself, and recursion is off",
							"a while loop; or add `recursion` to the module line")
						f.reported = true
						break
					}
				}
			}
		}
		if kw == "def" && len(toks) > 1 {
			defs = append(defs, &frame{name: toks[1].Text, indent: L.Width})
		}
	}
	a.renderFixes()
	return a
}

var fallbackRe = regexp.MustCompile(`\b(ImportError|ModuleNotFoundError|NameError|AttributeError)\b`)

var versionRe = regexp.MustCompile(`(?i)version|\bPY[23]|\bPY3K\b|\bPYTHON[23]\b`)

func (a *analysis) text(toks []token) string {
	if len(toks) == 0 {
		return ""
	}
	return a.src[toks[0].Off:toks[len(toks)-1].End]
}

// collect finds the names the script binds, and what it imports.
func (a *analysis) collect() {
	bind := func(n string) { a.bound[n], a.assigned[n] = true, true }
	for _, L := range a.lines {
		toks := L.Tokens
		for i, t := range toks {
			if t.Kind != pylex.Name {
				continue
			}
			if i+1 < len(toks) && toks[i+1].IsOp("=") {
				bind(t.Text)
			}
			if i > 0 && (toks[i-1].IsName("def") || toks[i-1].IsName("class") || toks[i-1].IsName("as") && !toks[0].IsName("import") && !toks[0].IsName("from")) {
				bind(t.Text)
			}
			if t.IsName("for") {
				for j := i + 1; j < len(toks) && !toks[j].IsName("in"); j++ {
					if toks[j].Kind == pylex.Name {
						bind(toks[j].Text)
					}
				}
			}
			if t.IsName("lambda") {
				for j := i + 1; j < len(toks) && !toks[j].IsOp(":"); j++ {
					if toks[j].Kind == pylex.Name {
						bind(toks[j].Text)
					}
				}
			}
		}
		if toks[0].IsName("def") && len(toks) > 2 && toks[2].IsOp("(") {
			end := closing(toks, 2)
			for j := 3; j < end; j++ {
				if p := toks[j-1]; toks[j].Kind == pylex.Name && (p.IsOp("(") || p.IsOp(",") || p.IsOp("*") || p.IsOp("**")) {
					bind(toks[j].Text)
				}
			}
		}
		for _, s := range a.statements(L) {
			if !s[0].IsName("import") && !s[0].IsName("from") {
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
					a.imported[im.binds[k]] = im.modules[0].name + "." + n.Text
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
	if s[0].IsName("import") {
		for _, part := range split(s[1:], ",") {
			if len(part) == 0 {
				continue
			}
			name, _, _ := dotted(part, 0)
			if name == "" {
				continue
			}
			m := importedModule{tok: part[0], name: name}
			if k := len(part); k >= 3 && part[k-2].IsName("as") {
				m.as = part[k-1].Text
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
	if i < len(s) && s[i].IsName("import") {
		rest := s[i+1:]
		if len(rest) > 0 && rest[0].IsOp("(") {
			rest = rest[1:]
			if len(rest) > 0 && rest[len(rest)-1].IsOp(")") {
				rest = rest[:len(rest)-1]
			}
		}
		for _, part := range split(rest, ",") {
			if len(part) == 0 {
				continue
			}
			if part[0].IsOp("*") {
				im.star = true
				continue
			}
			im.names = append(im.names, part[0])
			bind := part[0].Text
			if k := len(part); k >= 3 && part[k-2].IsName("as") {
				bind = part[k-1].Text
			}
			im.binds = append(im.binds, bind)
		}
	}
	return im
}

// dotted reads a dotted module name at toks[i], after any leading dots
// of a relative import.
func dotted(toks []token, i int) (name string, level, next int) {
	for i < len(toks) && (toks[i].IsOp(".") || toks[i].IsOp("...")) {
		level += len(toks[i].Text)
		i++
	}
	for i < len(toks) && toks[i].Kind == pylex.Name && !toks[i].IsName("import") && !toks[i].IsName("as") {
		name += toks[i].Text
		i++
		if i < len(toks) && toks[i].IsOp(".") {
			name += "."
			i++
		} else {
			break
		}
	}
	return name, level, i
}

// pos is the line and column of a byte of the source.
func (a *analysis) pos(off int) (int, int) {
	line := 1 + strings.Count(a.src[:off], "\n")
	ls := strings.LastIndexByte(a.src[:off], '\n') + 1
	return line, utf8.RuneCountInString(a.src[ls:off]) + 1
}
