package pamconst

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestNames checks the table against pam_python's set: 68 names, each once,
// and a value kind for each.
func TestNames(t *testing.T) {
	all := All()
	if len(all) != 68 {
		t.Errorf("%d names, pam_python has 68", len(all))
	}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.Name] {
			t.Errorf("%s twice", c.Name)
		}
		seen[c.Name] = true
		if c.Kind < KindCode || c.Kind > KindFeature {
			t.Errorf("%s: kind %d", c.Name, c.Kind)
		}
	}
	for _, n := range []string{"PAM_AUTHTOK_RECOVER_ERR", "PAM_AUTHTOK_RECOVERY_ERR", "HAVE_PAM_FAIL_DELAY", "_PAM_RETURN_VALUES", "PAM_XAUTHDATA"} {
		if !seen[n] {
			t.Errorf("%s missing", n)
		}
	}
	all[0].Value = 99
	if All()[0].Value == 99 {
		t.Error("All returns the table itself")
	}
}

// TestEveryConstantInTable reads this package's source: every exported
// constant must appear in the names table, so that the header check below
// covers it.
func TestEveryConstantInTable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "pamconst.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared, used := map[string]bool{}, map[string]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range g.Specs {
			v, ok := s.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for _, n := range v.Names {
				switch {
				case g.Tok == token.CONST && n.IsExported() && !strings.HasPrefix(n.Name, "Kind"):
					declared[n.Name] = true
				case g.Tok == token.VAR && n.Name == "names":
					ast.Inspect(v.Values[0], func(x ast.Node) bool {
						if id, ok := x.(*ast.Ident); ok {
							used[id.Name] = true
						}
						return true
					})
				}
			}
		}
	}
	if len(declared) < 60 {
		t.Fatalf("found only %d constants in pamconst.go", len(declared))
	}
	for n := range declared {
		if !used[n] {
			t.Errorf("constant %s is not in the names table", n)
		}
	}
}

// cProgram prints, for each name of the table, its value in the headers
// the shim is built with (shim.h includes <security/pam_modules.h>), and
// pam_strerror's text for each return code.
func cProgram(shimH string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#include %q\n#include <stdio.h>\n\nint main(void)\n{\n", shimH)
	for _, c := range All() {
		value := fmt.Sprintf("(long long)(%s)", c.Name)
		if c.Kind == KindFeature {
			value = "1LL" // defined, with no value
		}
		fmt.Fprintf(&b, "#ifdef %s\n\tprintf(\"%%s %%lld\\n\", %q, %s);\n#else\n\tprintf(\"%%s undefined\\n\", %q);\n#endif\n",
			c.Name, c.Name, value, c.Name)
	}
	b.WriteString("\tfor (int i = 0; i < _PAM_RETURN_VALUES; i++)\n\t\tprintf(\"strerror %d %s\\n\", i, pam_strerror(NULL, i));\n")
	b.WriteString("\treturn 0;\n}\n")
	return b.String()
}

// TestAgainstHeaders compiles and runs cProgram: every Go value must be
// the C headers' value, and every text pam_strerror's.
func TestAgainstHeaders(t *testing.T) {
	shimH, err := filepath.Abs("../../pammod/shim.h")
	if err != nil {
		t.Fatal(err)
	}
	out := testenv.RunC(t, cProgram(shimH), "-lpam")

	c := map[string]string{}
	var strerrors []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "strerror "); ok {
			_, text, _ := strings.Cut(rest, " ")
			strerrors = append(strerrors, text)
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		c[name] = value
	}
	for _, k := range All() {
		switch got := c[k.Name]; got {
		case "":
			t.Errorf("%s: not printed by the C program", k.Name)
		case "undefined":
			t.Errorf("%s: Go has %d, the C headers do not define it", k.Name, k.Value)
		case strconv.Itoa(k.Value):
		default:
			t.Errorf("%s: Go has %d, the C headers %s", k.Name, k.Value, got)
		}
	}
	if len(strerrors) != ReturnValues {
		t.Errorf("pam_strerror printed %d texts, want %d", len(strerrors), ReturnValues)
	}
	for i, want := range strerrors {
		if got := Strerror(i); got != want {
			t.Errorf("Strerror(%d) = %q, pam_strerror %q", i, got, want)
		}
	}
}

func TestStrerrorUnknown(t *testing.T) {
	for _, code := range []int{-1, ReturnValues, 1000} {
		if got, want := Strerror(code), "Unknown Linux-PAM return value "+strconv.Itoa(code); got != want {
			t.Errorf("Strerror(%d) = %q, want %q", code, got, want)
		}
	}
}
