package starhost

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// eval runs `def f(): <pre>; return <expr>` as a script and returns what
// f returned.
func eval(t *testing.T, h *Host, pre, expr string) (starlark.Value, error) {
	t.Helper()
	body := ""
	for _, line := range strings.Split(pre, "\n") {
		if line != "" {
			body += "    " + line + "\n"
		}
	}
	s, err := Compile("t.py", []byte("import json, os, sys, syslog, pwd, grp, time\ndef f():\n"+body+"    return "+expr+"\n"))
	if err != nil {
		return nil, err
	}
	run, err := s.Start(h)
	if err != nil {
		return nil, err
	}
	defer run.Stop()
	return run.Call("f")
}

// exprCase is an expression (after statements pre) and the repr of its
// value, or a part of the error it must end in.
type exprCase struct {
	pre, expr string
	want      string
	wantErr   string
}

func runExprCases(t *testing.T, cases []exprCase) {
	t.Helper()
	for _, tt := range cases {
		var lines []logLine
		v, err := eval(t, host(&lines), tt.pre, tt.expr)
		name := tt.expr
		if tt.pre != "" {
			name = tt.pre + "; " + name
		}
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: got %v, %v; want an error with %q", name, v, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case v.String() != tt.want:
			t.Errorf("%s = %s\n  want %s", name, v, tt.want)
		}
	}
}

// TestPwdSystem: root's entry through the machine's own NSS is the whole
// passwd line, as CPython's pwd gives it: all of GECOS, and the shell.
func TestPwdSystem(t *testing.T) {
	fields := passwdLine(t, "/etc/passwd", "root")
	if fields == nil {
		t.Skip("no root line in /etc/passwd to compare with")
	}
	want := `("root", "` + fields[1] + `", 0, 0, "` + fields[4] + `", "` + fields[5] + `", "` + fields[6] + `")`
	runExprCases(t, []exprCase{
		{expr: `tuple(pwd.getpwnam("root"))`, want: want},
		{expr: `tuple(pwd.getpwuid(0))`, want: want},
		{expr: `pwd.getpwnam("root").pw_shell`, want: `"` + fields[6] + `"`},
		{expr: `pwd.getpwnam("root")[6]`, want: `"` + fields[6] + `"`},
		{expr: `pwd.getpwnam("root").pw_gecos`, want: `"` + fields[4] + `"`},
		{expr: `len(grp.getgrgid(0))`, want: `4`},
		{expr: `grp.getgrgid(0)[0]`, want: `"root"`},
	})
}

func passwdLine(t *testing.T, file, user string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if fields := strings.Split(sc.Text(), ":"); len(fields) == 7 && fields[0] == user {
			return fields
		}
	}
	return nil
}

// TestNSSEntriesWrapped runs TestNSSEntries in a child whose NSS is
// nss_wrapper over testdata/, whose users have what os/user loses: a
// GECOS field with commas, a shell, an empty GECOS and shell.
func TestNSSEntriesWrapped(t *testing.T) {
	env := testenv.NSSWrapperEnv(t, "testdata/passwd", "testdata/group")
	cmd := exec.Command(os.Args[0], "-test.run=^TestNSSEntries$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, "PAMAC_IN_NSS_WRAPPER=1")...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNSSEntries") {
		t.Fatalf("TestNSSEntries under nss_wrapper: %v\n%s", err, out)
	}
}

// TestNSSEntries: pwd and grp entries are CPython's struct_passwd and
// struct_group: named fields, and a tuple of 7 or 4 (index, len, slice,
// iteration, unpacking).
func TestNSSEntries(t *testing.T) {
	if os.Getenv("PAMAC_IN_NSS_WRAPPER") != "1" {
		t.Skip("runs inside TestNSSEntriesWrapped")
	}
	const gecos = `"Dave Doe,Room 12,555-1234,555-9876,other"`
	runExprCases(t, []exprCase{
		{expr: `pwd.getpwnam("dave").pw_gecos`, want: gecos},
		{expr: `pwd.getpwnam("dave").pw_shell`, want: `"/bin/zsh"`},
		{expr: `pwd.getpwnam("dave").pw_passwd`, want: `"*"`},
		{expr: `pwd.getpwnam("dave")[4]`, want: gecos},
		{expr: `pwd.getpwnam("dave")[6]`, want: `"/bin/zsh"`},
		{expr: `pwd.getpwnam("dave")[-1]`, want: `"/bin/zsh"`},
		{expr: `pwd.getpwnam("dave")[0]`, want: `"dave"`},
		{expr: `pwd.getpwnam("dave")[2]`, want: `1005`},
		{expr: `pwd.getpwnam("dave")[2:4]`, want: `(1005, 100)`},
		{expr: `len(pwd.getpwnam("dave"))`, want: `7`},
		{expr: `list(pwd.getpwuid(1005))`, want: `["dave", "*", 1005, 100, ` + gecos + `, "/home/dave", "/bin/zsh"]`},
		{expr: `[x for x in pwd.getpwuid(1005)][5]`, want: `"/home/dave"`},
		{pre: `name, pw, uid, gid, gecos, home, shell = pwd.getpwnam("dave")`, expr: `(name, uid, shell)`, want: `("dave", 1005, "/bin/zsh")`},
		{expr: `pwd.getpwnam("dave") == pwd.getpwuid(1005)`, want: `True`},
		{expr: `type(pwd.getpwnam("dave"))`, want: `"struct_passwd"`},
		{expr: `str(pwd.getpwnam("dave"))`, want: `"pwd.struct_passwd(pw_name=\"dave\", pw_passwd=\"*\", pw_uid=1005, pw_gid=100, pw_gecos=\"Dave Doe,Room 12,555-1234,555-9876,other\", pw_dir=\"/home/dave\", pw_shell=\"/bin/zsh\")"`},
		{expr: `pwd.getpwnam("dave")[7]`, wantErr: "out of range"},
		{expr: `(pwd.getpwnam("erin").pw_gecos, pwd.getpwnam("erin").pw_shell)`, want: `("", "")`},
		{expr: `pwd.getpwnam("nobody-here")`, wantErr: `KeyError: getpwnam(): name not found: 'nobody-here'`},
		{expr: `pwd.getpwnam("dave\x00x")`, wantErr: `KeyError`},
		{expr: `pwd.getpwuid(4242)`, wantErr: `KeyError: getpwuid(): uid not found: 4242`},
		{expr: `pwd.getpwuid(-1)`, wantErr: `KeyError`},
		{expr: `catch(pwd.getpwnam, "nobody-here").error != None`, want: `True`},

		{expr: `grp.getgrnam("admins").gr_mem`, want: `["dave", "erin"]`},
		{expr: `grp.getgrnam("admins")[3]`, want: `["dave", "erin"]`},
		{expr: `grp.getgrnam("admins").gr_passwd`, want: `"!"`},
		{expr: `tuple(grp.getgrgid(2001))`, want: `("admins", "!", 2001, ["dave", "erin"])`},
		{expr: `len(grp.getgrgid(100))`, want: `4`},
		{expr: `grp.getgrgid(100)[-2]`, want: `100`},
		{expr: `type(grp.getgrgid(100))`, want: `"struct_group"`},
		{expr: `grp.getgrnam("nope")`, wantErr: `KeyError: getgrnam(): name not found: 'nope'`},
		{expr: `grp.getgrgid(4242)`, wantErr: `KeyError: getgrgid(): gid not found: 4242`},
	})
}

// TestJSON: json.dumps and json.loads as CPython has them, next to
// Starlark's encode and decode.
func TestJSON(t *testing.T) {
	for _, tt := range []struct {
		expr, want, wantErr string
	}{
		{expr: `json.dumps({"a": 1, "b": [1, 2.0, None, True, False]})`, want: `{"a": 1, "b": [1, 2.0, null, true, false]}`},
		{expr: `json.dumps([])`, want: `[]`},
		{expr: `json.dumps({})`, want: `{}`},
		{expr: `json.dumps("plain")`, want: `"plain"`},
		{expr: `json.dumps("é\x7f\n\t\r\b\f\x01\"\\/")`, want: `"\u00e9\u007f\n\t\r\b\f\u0001\"\\/"`},
		{expr: `json.dumps("😀")`, want: `"\ud83d\ude00"`},
		{expr: `json.dumps("é😀\x7f", ensure_ascii=False)`, want: "\"é😀\x7f\""},
		{expr: `json.dumps(12345678901234567890)`, want: `12345678901234567890`},
		{expr: `json.dumps(-7)`, want: `-7`},
		{expr: `json.dumps([100.0, 0.1, 1e16, 1e-5, 1.5e-7, 0.0001, -0.0, 123456789.125, 1e100, 1e15, 123456789012345678.0, 5e-324])`, want: `[100.0, 0.1, 1e+16, 1e-05, 1.5e-07, 0.0001, -0.0, 123456789.125, 1e+100, 1000000000000000.0, 1.2345678901234568e+17, 5e-324]`},
		{expr: `json.dumps([float("inf"), float("-inf"), float("nan")])`, want: `[Infinity, -Infinity, NaN]`},
		{expr: `json.dumps((1, "a"))`, want: `[1, "a"]`},
		{expr: `json.dumps({1: 2, None: 3, True: 4, 1.5: 5})`, want: `{"1": 2, "null": 3, "true": 4, "1.5": 5}`},
		{expr: `json.dumps({"b": 1, "a": [1, {}], "c": []}, indent=2)`, want: "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ],\n  \"c\": []\n}"},
		{expr: `json.dumps({"a": [1]}, indent=0)`, want: "{\n\"a\": [\n1\n]\n}"},
		{expr: `json.dumps([1], indent="\t")`, want: "[\n\t1\n]"},
		{expr: `json.dumps({"b": 1, "a": 2}, sort_keys=True)`, want: `{"a": 2, "b": 1}`},
		{expr: `json.dumps({"a": [1, 2]}, separators=(",", ":"))`, want: `{"a":[1,2]}`},
		{expr: `json.dumps(set([1]))`, wantErr: "Object of type set is not JSON serializable"},
		{expr: `json.dumps({(1, 2): 1})`, wantErr: "keys must be str, int, float, bool or None, not tuple"},
		{expr: `json.dumps(json.loads('{"a": [1, 2.5, null, true, "x\\u00e9"]}'))`, want: `{"a": [1, 2.5, null, true, "x\u00e9"]}`},
		{expr: `json.encode({"a": 1})`, want: `{"a":1}`},
	} {
		var lines []logLine
		v, err := eval(t, host(&lines), "", tt.expr)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: got %v, %v; want an error with %q", tt.expr, v, err, tt.wantErr)
			}
			continue
		}
		s, ok := starlark.AsString(v)
		if err != nil || !ok || s != tt.want {
			t.Errorf("%s = %v, %v\n  want %s", tt.expr, v, err, tt.want)
		}
	}
	runExprCases(t, []exprCase{
		{expr: `json.loads('{"a": [1, 2.5, null, true, false, "x\\u00e9"]}') == {"a": [1, 2.5, None, True, False, "xé"]}`, want: `True`},
		{expr: `type(json.loads("1"))`, want: `"int"`},
		{expr: `type(json.loads("1.0"))`, want: `"float"`},
		{expr: `json.loads(" [] ")`, want: `[]`},
		{expr: `json.loads('{"a": 1, "a": 2}')`, want: `{"a": 2}`},
		{expr: `json.loads(s="[1]")`, want: `[1]`},
		{expr: `json.loads("{")`, wantErr: "json.loads"},
		{expr: `json.loads("[1] x")`, wantErr: "json.loads"},
		{expr: `json.decode("[1]")`, want: `[1]`},
		{pre: `x = {"k": [1, "é", None, 2.5, {"n": False}]}`, expr: `json.loads(json.dumps(x)) == x`, want: `True`},
		{pre: "l = []\nl.append(l)", expr: `json.dumps(l)`, wantErr: "Circular reference detected"},
	})
}

// TestPythonNames: what real pam_python modules use from os, sys and
// syslog beyond what the host had.
func TestPythonNames(t *testing.T) {
	t.Setenv("PAMAC_LEAK", "from the helper's environment")
	runExprCases(t, []exprCase{
		// os.environ: the application's environment does not reach the
		// helper, and the helper's own is not the application's: empty,
		// read-only
		{expr: `os.environ`, want: `{}`},
		{expr: `"PATH" in os.environ or "PAMAC_LEAK" in os.environ`, want: `False`},
		{expr: `os.environ.get("HOME", "none")`, want: `"none"`},
		{expr: `os.getenv("PAMAC_LEAK")`, want: `None`},
		{expr: `os.getenv("PAMAC_LEAK", "d")`, want: `"d"`},
		{expr: `os.environ["HOME"]`, wantErr: `key "HOME" not in dict`},
		{pre: `os.environ["X"] = "1"`, expr: `1`, wantErr: "frozen"},
		// sys.argv: pam_python never sets it; Python 3.8+ makes it ['']
		{expr: `sys.argv`, want: `[""]`},
		{pre: `sys.argv.append("x")`, expr: `sys.argv`, want: `["", "x"]`},
		{pre: `sys.path.insert(0, "/lib/security")`, expr: `sys.path[0]`, want: `"/lib/security"`},
		{expr: `sys.exit(2)`, wantErr: "SystemExit: 2"},
		// syslog: CPython's constants and functions
		{expr: `(syslog.LOG_PID, syslog.LOG_CONS, syslog.LOG_ODELAY, syslog.LOG_NDELAY, syslog.LOG_NOWAIT, syslog.LOG_PERROR)`, want: `(1, 2, 4, 8, 16, 32)`},
		{expr: `(syslog.LOG_KERN, syslog.LOG_USER, syslog.LOG_MAIL, syslog.LOG_DAEMON, syslog.LOG_AUTH, syslog.LOG_SYSLOG, syslog.LOG_LPR, syslog.LOG_NEWS, syslog.LOG_UUCP, syslog.LOG_CRON, syslog.LOG_AUTHPRIV, syslog.LOG_FTP)`, want: `(0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88)`},
		{expr: `(syslog.LOG_LOCAL0, syslog.LOG_LOCAL1, syslog.LOG_LOCAL2, syslog.LOG_LOCAL3, syslog.LOG_LOCAL4, syslog.LOG_LOCAL5, syslog.LOG_LOCAL6, syslog.LOG_LOCAL7)`, want: `(128, 136, 144, 152, 160, 168, 176, 184)`},
		{expr: `(syslog.LOG_EMERG, syslog.LOG_ALERT, syslog.LOG_CRIT, syslog.LOG_ERR, syslog.LOG_WARNING, syslog.LOG_NOTICE, syslog.LOG_INFO, syslog.LOG_DEBUG)`, want: `(0, 1, 2, 3, 4, 5, 6, 7)`},
		{expr: `(syslog.LOG_MASK(syslog.LOG_ERR), syslog.LOG_UPTO(syslog.LOG_ERR))`, want: `(8, 15)`},
		{expr: `syslog.openlog("myscript", syslog.LOG_PID | syslog.LOG_CONS, syslog.LOG_AUTHPRIV)`, want: `None`},
		{expr: `syslog.openlog(ident="myscript", logoption=syslog.LOG_PID, facility=syslog.LOG_AUTH)`, want: `None`},
		{expr: `syslog.openlog()`, want: `None`},
		{expr: `syslog.openlog("x", "y")`, wantErr: "openlog"},
		{expr: `syslog.closelog()`, want: `None`},
		{expr: `syslog.setlogmask(0)`, want: `255`},
		{pre: `syslog.setlogmask(syslog.LOG_UPTO(syslog.LOG_ERR))`, expr: `syslog.setlogmask(0)`, want: `15`},
	})
	// the mask filters, the facility is not the priority
	var lines []logLine
	_, err := eval(t, host(&lines), "syslog.openlog(\"x\", syslog.LOG_PID, syslog.LOG_AUTHPRIV)\n"+
		"syslog.syslog(syslog.LOG_AUTH | syslog.LOG_WARNING, \"warning\")\n"+
		"syslog.setlogmask(syslog.LOG_UPTO(syslog.LOG_ERR))\n"+
		"syslog.syslog(syslog.LOG_INFO, \"masked\")\n"+
		"syslog.syslog(\"masked too\")\n"+
		"syslog.syslog(syslog.LOG_ERR, \"kept\")", "None")
	if err != nil || len(lines) != 2 || lines[0] != (logLine{4, "warning"}) || lines[1] != (logLine{3, "kept"}) {
		t.Errorf("syslog with a mask: %v, %v", lines, err)
	}
}

// TestSysPerRun: sys.argv and sys.path are each run's own: what one script
// does to them is not seen by the next (the daemon runs many).
func TestSysPerRun(t *testing.T) {
	var lines []logLine
	for i := 0; i < 2; i++ {
		v, err := eval(t, host(&lines), "sys.argv.append(\"x\")\nsys.path.append(\"p\")", "(sys.argv, sys.path)")
		if err != nil || v.String() != `(["", "x"], ["p"])` {
			t.Fatalf("run %d: %v, %v", i, v, err)
		}
	}
}

// TestImportNames: the new names import as pam_python scripts write it.
func TestImportNames(t *testing.T) {
	s, err := Compile("t.py", []byte(`from json import loads, dumps
from os import environ, getenv
from sys import argv
from syslog import openlog, LOG_PID, LOG_AUTHPRIV
import sys as s
from pwd import getpwuid
def f():
    openlog("x", LOG_PID, LOG_AUTHPRIV)
    return [loads(dumps({"a": 1})), environ, getenv("X"), argv, s.argv == argv, getpwuid(0)[0], len(getpwuid(0))]
`))
	if err != nil {
		t.Fatal(err)
	}
	var lines []logLine
	run, err := s.Start(host(&lines))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	v, err := run.Call("f")
	if err != nil || v.String() != `[{"a": 1}, {}, None, [""], True, "root", 7]` {
		t.Errorf("f() = %v, %v", v, err)
	}
}
