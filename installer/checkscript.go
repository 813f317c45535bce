package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pycheck"
)

// runCheckScript is `check-script [--interpreter PATH] FILE…`: everything
// in each pam_python script that keeps it from running, in one pass, each
// with file:line:col, why, and the fix where there is one. Without
// --interpreter the script is checked for the Starlark engine; with it,
// for that real Python (the module option interpreter=PATH): the script
// must compile there and its imports must be installed there, and Python 2
// lines are errors under Python 3. Exit 0 when every script runs as it is,
// 1 otherwise, 64 for a bad command line.
func runCheckScript(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-script", flag.ContinueOnError)
	fs.SetOutput(stderr)
	interpreter := fs.String("interpreter", "", "check for this real Python, as the module option interpreter=PATH runs it")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "check-script: name the scripts to check")
		return exitUsage
	}
	if *interpreter != "" && !strings.HasPrefix(*interpreter, "/") {
		fmt.Fprintf(stderr, "check-script: --interpreter %s is not an absolute path (nor would the module option interpreter= take it)\n", *interpreter)
		return exitUsage
	}
	status := 0
	for _, path := range fs.Args() {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			status = 1
			continue
		}
		var ok bool
		if *interpreter != "" {
			ok = checkPython(*interpreter, path, src, stdout)
		} else {
			ok = checkStarlark(path, src, stdout)
		}
		if !ok {
			status = 1
		}
	}
	return status
}

func checkStarlark(path string, src []byte, stdout io.Writer) bool {
	findings, err := pycheck.CheckScript(path, src)
	for _, f := range findings {
		fmt.Fprintf(stdout, "%s:%s\n", path, f)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stdout, "%s: %v: %d thing(s) to port\n", path, err, len(findings))
	case len(findings) > 0:
		fmt.Fprintf(stdout, "%s: compiles, but check the lines above\n", path)
	default:
		fmt.Fprintf(stdout, "%s: OK, runs as it is\n", path)
		return true
	}
	return false
}

// pythonCheckTimeout bounds one run of the interpreter.
const pythonCheckTimeout = 20 * time.Second

// pythonCheck runs in the interpreter, reading the plan on stdin. It
// compiles (never runs) the script, one top-level statement at a time when
// the whole does not compile, masking a line that fails and trying again,
// so every syntax error is reported; then it finds the imports with ast
// and asks importlib, without importing anything, whether each top-level
// module is there. It reads as Python 2.7 too, though the engine needs
// Python 3.
const pythonCheck = `
import sys, json, ast, warnings
req = json.loads(sys.stdin.read())
py3 = sys.version_info[0] >= 3
src = req["fixed"] if py3 else req["orig"]
path = req["path"]
sys.path = [p for p in sys.path if p not in ("", ".")]
lines = src.split("\n")
out = {"version": ".".join([str(x) for x in sys.version_info[:3]]), "errors": [], "warnings": [], "imports": []}
logical = {}
for first, last, mask in req["lines"]:
    for p in range(first, last + 1):
        logical[p] = (first, last, mask)
seen = set()
def compiles(text):
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        err = None
        try:
            compile(text if py3 else text.encode("utf-8"), path, "exec", 0, True)
        except SyntaxError as e:
            err = e
        except (ValueError, TypeError) as e:
            err = SyntaxError(str(e))
            err.lineno, err.offset = 1, 1
    for w in ws:
        key = (w.lineno, str(w.message))
        if w.filename == path and key not in seen:
            seen.add(key)
            out["warnings"].append({"line": w.lineno, "col": 1, "msg": "%s: %s" % (w.category.__name__, w.message)})
    return err
if compiles(src) is not None:
    masked = set()
    for a, b in req["chunks"]:
        ok = False
        for _ in range(20):
            err = compiles("\n" * (a - 1) + "\n".join(lines[a - 1:b]))
            if err is None:
                ok = True
                break
            ln = err.lineno or b
            e = {"line": min(max(ln, a), b), "col": err.offset or 1, "msg": err.msg or str(err)}
            if e not in out["errors"]:
                out["errors"].append(e)
            span = logical.get(ln)
            if span is None or span[0] in masked or ln < a or ln > b:
                break
            masked.add(span[0])
            lines[span[0] - 1] = span[2]
            for p in range(span[0] + 1, span[1] + 1):
                lines[p - 1] = ""
        if not ok:
            for p in range(a, b + 1):
                lines[p - 1] = ""
found = [(i["line"], i["col"], i["module"]) for i in req["imports"]]
try:
    final = "\n".join(lines)
    tree = ast.parse(final if py3 else final.encode("utf-8"), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, node.col_offset + 1, alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append((node.lineno, node.col_offset + 1, node.module.split(".")[0]))
except SyntaxError:
    pass
def installed(name):
    try:
        import importlib.util
    except ImportError:
        import imp
        try:
            imp.find_module(name)
            return True
        except ImportError:
            return name in sys.builtin_module_names
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False
cache, done = {}, set()
for ln, col, name in found:
    if (ln, name) in done:
        continue
    done.add((ln, name))
    if name not in cache:
        cache[name] = installed(name)
    out["imports"].append({"line": ln, "col": col, "module": name, "found": cache[name]})
sys.stdout.write(json.dumps(out))
`

type pythonResult struct {
	Version  string
	Errors   []pythonMessage
	Warnings []pythonMessage
	Imports  []struct {
		Line, Col int
		Module    string
		Found     bool
	}
}

type pythonMessage struct {
	Line, Col int
	Msg       string
}

// checkPython checks a script for a real Python interpreter; it reports
// whether the script runs there as it is.
func checkPython(interpreter, path string, src []byte, stdout io.Writer) bool {
	plan := pycheck.PlanPython(src)
	res, err := runPythonCheck(interpreter, path, src, plan)
	if err != nil {
		fmt.Fprintf(stdout, "%s: cannot check under %s: %v\n", path, interpreter, err)
		return false
	}
	trusted := trust.File(interpreter)
	if trusted != nil {
		fmt.Fprintf(stdout, "%s: the module refuses interpreter=%s, and denies: %v\n", path, interpreter, trusted)
	}
	py3 := !strings.HasPrefix(res.Version, "2.")
	var findings []pycheck.Finding
	lines := map[int]bool{}
	guarded := 0
	if py3 {
		for _, f := range plan.Findings {
			if f.Guarded {
				f.Warning = true
				f.Why += " (under try: or a version test, so maybe never run by Python 3)"
				guarded++
			}
			findings = append(findings, f)
			lines[f.Line] = true
		}
	}
	for _, e := range res.Errors {
		if !lines[e.Line] {
			findings = append(findings, pycheck.Finding{Line: e.Line, Col: e.Col, What: "syntax", Why: e.Msg})
		}
	}
	problems := len(findings) - guarded
	reported := map[string]bool{}
	for _, im := range res.Imports {
		if im.Found || reported[fmt.Sprint(im.Line, im.Module)] || py2Module(findings, im.Line, im.Module) {
			continue
		}
		reported[fmt.Sprint(im.Line, im.Module)] = true
		findings = append(findings, pycheck.Finding{Line: im.Line, Col: im.Col, What: "import",
			Why: fmt.Sprintf("module %q is not installed for %s", im.Module, interpreter),
			Fix: "install it for that interpreter (the distribution's package, or pip)"})
		problems++
	}
	for _, w := range res.Warnings {
		findings = append(findings, pycheck.Finding{Line: w.Line, Col: w.Col, What: "python", Why: w.Msg, Warning: true})
	}
	sort.SliceStable(findings, func(i, j int) bool {
		if findings[i].Line != findings[j].Line {
			return findings[i].Line < findings[j].Line
		}
		return findings[i].Col < findings[j].Col
	})
	for _, f := range findings {
		fmt.Fprintf(stdout, "%s:%s\n", path, f)
	}
	under := fmt.Sprintf("%s (Python %s)", interpreter, res.Version)
	if trusted != nil {
		problems++
	}
	if problems > 0 {
		fmt.Fprintf(stdout, "%s: %d problem(s) under %s\n", path, problems, under)
		return false
	}
	fmt.Fprintf(stdout, "%s: OK under %s\n", path, under)
	return true
}

// py2Module reports whether a Python 2 finding on the line names the
// module already.
func py2Module(findings []pycheck.Finding, line int, module string) bool {
	word := regexp.MustCompile(`\b` + regexp.QuoteMeta(module) + `\b`)
	for _, f := range findings {
		if f.Py2 && f.Line == line && word.MatchString(f.Why) {
			return true
		}
	}
	return false
}

// runPythonCheck runs pythonCheck in the interpreter as the engine
// (pammod/pyengine) runs scripts: isolated (-I: no PYTHON* variables, no
// user site, no current directory on sys.path), in /, with the same
// environment; and writing no bytecode, with a time limit.
func runPythonCheck(interpreter, path string, src []byte, plan pycheck.PythonPlan) (*pythonResult, error) {
	lines := make([][3]any, 0, len(plan.Lines))
	for _, l := range plan.Lines {
		lines = append(lines, [3]any{l.First, l.Last, l.Mask})
	}
	imports := []map[string]any{}
	for _, im := range plan.Imports {
		imports = append(imports, map[string]any{"line": im.Line, "col": im.Col, "module": im.Module})
	}
	chunks := plan.Chunks
	if chunks == nil {
		chunks = [][2]int{}
	}
	in, err := json.Marshal(map[string]any{"path": path, "orig": string(src), "fixed": plan.Fixed,
		"lines": lines, "chunks": chunks, "imports": imports})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), pythonCheckTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, interpreter, "-I", "-B", "-c", pythonCheck)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer in %v", pythonCheckTimeout)
		}
		if strings.Contains(errOut.String(), "Unknown option: -I") {
			return nil, fmt.Errorf("%v: no Python 3 (the engine runs it with -I, which Python 2 lacks)", err)
		}
		msg := strings.TrimSpace(errOut.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg != "" {
			return nil, fmt.Errorf("%v: %s", err, msg)
		}
		return nil, err
	}
	var res pythonResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("not a Python this check understands: %v", err)
	}
	return &res, nil
}
