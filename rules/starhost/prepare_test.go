package starhost

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pylex"
)

func TestPrepare(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"import syslog", "pass", ""},
		{"  import syslog, pwd  # for logging", "  pass", ""},
		{"import os.path as p", `p = __modules__["os.path"]`, ""},
		{"from syslog import syslog, LOG_INFO as INFO", `syslog = __modules__["syslog"].syslog; INFO = __modules__["syslog"].LOG_INFO`, ""},
		{"from time import (localtime)", `localtime = __modules__["time"].localtime`, ""},
		{"if x is None and y is not None:", "if x == None and y != None:", ""},
		{"if ok is True:", "if ok == True:", ""},
		{"import requests", "", `t.py:1: module "requests" is not available here`},
		{"from subprocess import call", "", `module "subprocess"`},
		{"from os import *", "", "import *` is not supported"},
		{"from . import x", "", `module "." is not available`},
		// only code is rewritten (TestPrepareOnlyCode has more)
		{`if x is None: s = "x is None"  # is None`, `if x == None: s = "x is None"  # is None`, ""},
		{"import syslog\r\nx = y is not True\r\n", "pass\r\nx = y != True\r\n", ""},
		{"x = (y is\n  not None)", "x = (y !=\n   None)", ""},
		{"x = a is b", "x = a is b", ""}, // Starlark says is is reserved; check-script says what to write
		{"import os as", "import os as", ""},
		{"if x: import os", "if x: import os", ""},
		{"from syslog import (syslog,\n    LOG_INFO)", "", "t.py:1: an import must fit on one line here"},
		{"import os; x = 1", "", "t.py:1: an import must be alone on its line"},
	}
	for _, tt := range tests {
		got, err := prepare("t.py", []byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	// lines stay where they were
	src := "import syslog\n\nfrom pwd import getpwnam\nx = 1\n"
	got, _ := prepare("t.py", []byte(src))
	if strings.Count(string(got), "\n") != strings.Count(src, "\n") {
		t.Errorf("line count changed:\n%s", got)
	}
}

// FuzzPrepare: no input makes the pre-pass panic; what it returns has
// every line where it was, and every string as written.
func FuzzPrepare(f *testing.F) {
	for _, seed := range []string{
		"import syslog, pwd  # for logging\nfrom os import path as p\nfrom time import (localtime)\n",
		"if x is None and y is not None:\n    z = w is True\n",
		"HELP = \"\"\"\nimport subprocess\nthe key is None\n\"\"\"\nx = 'a is None'  # is None\n",
		"x = (y is\n  not None)\nimport os; x = 1\nfrom x import (a,\n b)\n",
		"import\nfrom\nis\nimport os as\nfrom os import\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := prepare("f.py", []byte(src))
		if err != nil {
			return
		}
		if strings.Count(string(out), "\n") != strings.Count(src, "\n") {
			t.Fatalf("%q prepared as %q: lines moved", src, out)
		}
		for _, tok := range pylex.Tokens(src) {
			if tok.Kind == pylex.String && !strings.Contains(string(out), tok.Text) {
				t.Fatalf("%q prepared as %q: string %s changed", src, out, tok.Text)
			}
		}
	})
}

// TestPrepareOnlyCode: the pre-pass rewrites code, never what a string or
// a comment holds: a message saying "is None" keeps its words, and an
// import in a docstring is text, neither rewritten nor refused.
func TestPrepareOnlyCode(t *testing.T) {
	for _, src := range []string{
		`msg = "the key is None"`,
		`msg = 'is not True' if x is None else "is False"`,
		"HELP = \"\"\"\nUsage:\n    import subprocess\n    from os import *\n\"\"\"",
		"DOC = '''\nimport os\nfrom syslog import syslog\n'''",
		"x = 1  # y is None, import os",
		`s = r"from x import y" + b'import z'`,
	} {
		got, err := prepare("t.py", []byte(src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		// every string and comment as it was
		for _, lit := range []string{`"the key is None"`, `'is not True'`, `"is False"`, "import subprocess", "from os import *",
			"import os\nfrom syslog import syslog", "# y is None, import os", `r"from x import y"`, `b'import z'`} {
			if strings.Contains(src, lit) && !strings.Contains(string(got), lit) {
				t.Errorf("%q: prepared as %q, changing %q", src, got, lit)
			}
		}
	}
}

// TestPrepareOnlyCodeRuns: the script sees its strings as written.
func TestPrepareOnlyCodeRuns(t *testing.T) {
	s, err := Compile("t.py", []byte("HELP = \"\"\"\n  import subprocess\n\"\"\"\ndef f(x):\n    return [\"the key is None\", x is None, HELP]\n"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Start(&Host{})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	v, err := run.Call("f", starlark.None)
	if err != nil || v.String() != `["the key is None", True, "\n  import subprocess\n"]` {
		t.Errorf("f(None) = %v, %v", v, err)
	}
}
