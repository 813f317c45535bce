package pycheck

import (
	"fmt"
	"strings"
	"testing"
)

// brief is a finding as "line:col what".
func brief(f []Finding) []string {
	var out []string
	for _, x := range f {
		out = append(out, fmt.Sprintf("%d:%d %s", x.Line, x.Col, x.What))
	}
	return out
}

// TestCheckScriptAllAtOnce: every problem of a script is reported in one
// pass, each on its line and column, with a reason; none hides another.
func TestCheckScriptAllAtOnce(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"five problems, five lines", `import syslog
import requests
def pam_sm_authenticate(pamh, flags, argv):
    global seen
    msg = f"hi {pamh.user}"
    if 0 < len(msg) < 80:
        pass
    with open("/etc/motd") as f:
        msg = f.read()
    return pamh.PAM_SUCCESS
`, []string{"2:8 import", "4:5 global", "5:11 f-string", "6:21 chained comparison", "8:5 with"}},

		{"every syntax and name error", `import syslog
def a(:
    pass
def b():
    return 1 +
def c(x):
    return isinstance(x, str)
def d():
    return nothing_here
`, []string{"2:8 syntax", "5:15 syntax", "7:12 undefined", "9:12 undefined"}},

		{"every unsupported import", `import os, requests
from ldap import initialize
import json as j
from __future__ import print_function
from os import system
def pam_sm_authenticate(pamh, flags, argv):
    import subprocess
    return pamh.PAM_SUCCESS
`, []string{"1:12 import", "2:6 import", "4:6 import", "5:16 os.system", "7:12 import"}},

		{"every construct", `class A:
    pass
def f(xs, d):
    try:
        del d["k"]
    except KeyError as e:
        raise
    finally:
        pass
    assert xs
    for x in xs:
        break
    else:
        pass
    y = {1, 2}
    z = any(x for x in xs)
    w = 2 ** 8
    if xs is d:
        pass
    s = u"text" + "\d"
    n = 1_000
    return "%5d" % n
@decorator
def g(x: int) -> int:
    yield x
def h(n):
    return h(n - 1)
`, []string{"1:1 class", "4:5 try/except", "5:9 del", "6:5 try/except", "7:9 raise", "8:5 try/except",
			"10:5 assert", "13:5 for/else", "15:9 set", "16:12 generator expression", "17:11 **", "18:11 is",
			"20:9 string prefix", "20:20 escape", "21:9 number", "22:12 format", "23:1 decorator", "24:8 annotation",
			"25:5 yield", "27:12 recursion"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := CheckScript("x.py", []byte(c.src))
			if err == nil {
				t.Error("compiles?")
			}
			got := brief(f)
			if strings.Join(got, ", ") != strings.Join(c.want, ", ") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
				for _, x := range f {
					t.Log(x)
				}
			}
			for _, x := range f {
				if x.Why == "" {
					t.Errorf("%v: no reason", x)
				}
			}
		})
	}
}

func TestCheckScriptFixes(t *testing.T) {
	src := "import requests\ndef f(pamh):\n    try:\n        u = pamh.get_user()\n    except pamh.exception as e:\n        return e.pam_result\n"
	f, _ := CheckScript("x.py", []byte(src))
	want := []string{
		`1:8: import: module "requests" is not available in the Starlark engine (it has syslog, pwd, grp, os, os.path, time, json, sys); fix: drop it, or run the script in real Python: interpreter=/usr/bin/python3 on the module line`,
		"3:5: try/except: Starlark has no exceptions; fix: call the risky part through catch(fn, *args) and test .error (.error.pam_result for PAM failures)",
		"5:5: try/except: Starlark has no exceptions; fix: call the risky part through catch(fn, *args) and test .error (.error.pam_result for PAM failures)",
	}
	var got []string
	for _, x := range f {
		got = append(got, x.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPython2: each Python 2 line is found, on its line, with its Python 3
// form; the fixed source keeps every line, and has no Python 2 left that
// would keep Python 3 from compiling it.
func TestPython2(t *testing.T) {
	syntaxLevel := 0
	// the cases before the empty one do not compile under Python 3; the
	// fixed source must; the ones after it fail only when they run
	for i, c := range []struct{ line, fix string }{
		{`print "hello", user`, `print("hello", user)`},
		{`print`, `print()`},
		{`print "a", b,`, `print("a", b, end=" ")`},
		{`print >>sys.stderr, "x"`, `print("x", file=sys.stderr)`},
		{`print ("a"), b`, `print(("a"), b)`},
		{`exec "x = 1" in ns`, `exec("x = 1", ns)`},
		{`raise ValueError, "bad"`, `raise ValueError("bad")`},
		{`raise E, (1, 2)`, `raise E(1, 2)`},
		{"s = `user`", `repr(user)`},
		{`ok = a <> b`, `!=`},
		{`os.chmod(p, 0777)`, `0o777`},
		{`n = 10L`, `10`},
		{`n = 0x1fL`, `0x1f`},
		{`s = ur"\d"`, `r"…"`},
		{"", ""},
		{`if d.has_key(user): pass`, `user in d`},
		{`if self.cache[u].has_key(k): pass`, `k in self.cache[u]`},
		{`for k, v in d.iteritems(): pass`, `.items()`},
		{`s = string.letters`, `string.ascii_letters`},
		{`n = sys.maxint`, `sys.maxsize`},
		{`ok = isinstance(s, basestring)`, `str`},
		{`s = unicode(x)`, `str`},
		{`for i in xrange(3): pass`, `range`},
		{`s = raw_input("? ")`, `input() (no terminal under PAM: pamh.conversation)`},
		{`import ConfigParser`, `import configparser`},
		{`from urllib2 import urlopen`, `import urllib.request`},
		{`data = file(p).read()`, `open(path)`},
		{`def f(a, (b, c)): pass`, `take one name and unpack it in the body: def f(a, pair): x, y = pair`}, // no mechanical fix
	} {
		if c.line == "" {
			syntaxLevel = i
			continue
		}
		src := "import sys, string, os\ndef g(d, a, b, p, x, user, ns, self, u, k):\n    " + c.line + "\n    return 0\n"
		plan := PlanPython([]byte(src))
		if len(plan.Findings) != 1 || plan.Findings[0].Line != 3 || plan.Findings[0].Fix != c.fix || !plan.Findings[0].Py2 {
			t.Errorf("%s: %v, want one Python 2 finding on line 3 with fix %q", c.line, plan.Findings, c.fix)
		}
		if n := strings.Count(plan.Fixed, "\n"); n != strings.Count(src, "\n") {
			t.Errorf("%s: fixed source has %d lines", c.line, n)
		}
		if i >= syntaxLevel {
			continue // compiles under Python 3 as it is: reported, not rewritten
		}
		if again := PlanPython([]byte(plan.Fixed)); len(again.Findings) != 0 {
			t.Errorf("%s: fixed to %q, which still has %v", c.line, strings.Split(plan.Fixed, "\n")[2], again.Findings)
		}
	}
	// except E, e: needs its try
	src := "try:\n    pass\nexcept (KeyError, IndexError), e:\n    pass\n"
	plan := PlanPython([]byte(src))
	if len(plan.Findings) != 1 || plan.Findings[0].Line != 3 || plan.Findings[0].Fix != "except (KeyError, IndexError) as e:" {
		t.Errorf("except: %v", plan.Findings)
	}
	if !strings.Contains(plan.Fixed, "except (KeyError, IndexError) as e:") {
		t.Errorf("except fixed to %q", plan.Fixed)
	}

	// Python 2 names in code that Python 3 may never run
	src = `import sys
try:
    import ConfigParser as configparser
except ImportError:
    import configparser
try:
    text = unicode
except NameError:
    text = str
if sys.version_info[0] < 3:
    ints = (int, long)
else:
    ints = (int,)
    s = xrange(3)
def f(d, k):
    import string
    return d.has_key(k) or string.letters
`
	var got []string
	for _, f := range PlanPython([]byte(src)).Findings {
		got = append(got, fmt.Sprintf("%d %v", f.Line, f.Guarded))
	}
	if strings.Join(got, ", ") != "3 true, 7 true, 11 true, 14 true, 17 false, 17 false" {
		t.Errorf("guarded: %s", strings.Join(got, ", "))
	}
}

// TestPython3Clean: Python 2 forms inside strings and comments, and
// Python 3 names that look like Python 2 ones, are no findings.
func TestPython3Clean(t *testing.T) {
	src := `import syslog
# print "x"   except E, e:   raise E, "m"   ` + "`x`" + `   a <> b   0777   10L   d.has_key(k)   xrange(3)
HELP = """
print "old style"
except E, e:
raise E, "msg"
` + "`backticks`" + ` and a <> b, 0777, 10L, ur"x", d.has_key(k), string.letters, xrange(3), unicode
"""
def pam_sm_authenticate(pamh, flags, argv):
    msg = 'print "x" <> ` + "`y`" + ` 0777 10L'  # has_key( iteritems()
    syslog.syslog("raise E, 'msg' and except E, e: %s" % msg)
    long = 10
    if long > 3 and pamh.user != None:
        print("ok", long, 0o777, 0x10, 0, 00, 1.5e-3)
    return pamh.PAM_SUCCESS
`
	if plan := PlanPython([]byte(src)); len(plan.Findings) != 0 || plan.Fixed != src {
		t.Errorf("Python 3 script: %v", plan.Findings)
	}
	f, err := CheckScript("ok.py", []byte(src))
	if len(f) != 0 || err != nil {
		t.Errorf("Python 3 script in Starlark: %v, %v", f, err)
	}
	clean, err := CheckScript("ok.py", []byte("import syslog\ndef pam_sm_authenticate(pamh, flags, argv):\n    if pamh.user is None:\n        return pamh.PAM_USER_UNKNOWN\n    return pamh.PAM_SUCCESS if 1 << 3 > 2 else 3\n"))
	if err != nil || len(clean) != 0 {
		t.Errorf("a portable script: %v, %v", clean, err)
	}
}

// TestPlanPython: what the interpreter check gets: chunks, masks, imports.
func TestPlanPython(t *testing.T) {
	src := "# head\nimport a.b, c as d\n\n@deco\ndef f(x):\n    from e import g\n    if x: return (1,\n        2)\n    return 0\nelse_ = 1\nclass K(object):\n    pass\n"
	p := PlanPython([]byte(src))
	if fmt.Sprint(p.Chunks) != "[[1 3] [4 9] [10 10] [11 13]]" {
		t.Errorf("chunks %v", p.Chunks)
	}
	if fmt.Sprint(p.Imports) != "[{2 8 a} {2 13 c} {6 10 e}]" {
		t.Errorf("imports %v", p.Imports)
	}
	masks := map[int]string{}
	for _, l := range p.Lines {
		masks[l.First] = fmt.Sprintf("%d %s", l.Last, l.Mask)
	}
	for line, want := range map[int]string{2: "2 pass", 4: "4 ", 5: "5 def f(*args, **kwargs):", 7: "8     if True: pass", 11: "11 class K:"} {
		if masks[line] != want {
			t.Errorf("line %d masked as %q, want %q", line, masks[line], want)
		}
	}
}
