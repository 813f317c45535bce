// Package pamscript is the pam_python runtime of the Starlark engine: it
// runs one PAM call of a pam_python script (`pam_accesscontrol.so SCRIPT`,
// docs/pam_python.md) in the starhost sandbox, gives the script pamh,
// pam_python's handle, keeps its module state between calls in PAM data,
// and turns what the entry point returns into a PAM code that is never
// PAM_SUCCESS by accident.
//
// The helper's script mode is its one user; rule plugins run in the same
// sandbox without it (rules/starhost/plugin).
package pamscript

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// PAM return codes the script runner gives itself.
const (
	pamSymbolErr  = pamconst.SymbolErr
	pamServiceErr = pamconst.ServiceErr
)

// Call is one PAM call of a pam_python script.
type Call struct {
	Path  string   // the script, resolved
	Argv  []string // argv as pam_python gives it: the script as written, then its arguments
	Entry string   // pam_sm_authenticate, pam_sm_setcred, …
	Flags int
	PAM   PAM
	Host  *starhost.Host
	// Recursion lets the script's functions call themselves.
	Recursion bool
}

// globalsKey keeps a script's module state on the PAM handle.
func globalsKey(path string) string { return "globals:" + path }

// Run runs the call: the top level, the module state of earlier calls
// of this handle, the entry point. It returns the PAM code and, for a
// failure, why (which the caller logs). Only an int from 0 to 31 passes;
// anything else, any error or limit, is PAM_SERVICE_ERR (or SYMBOL_ERR for
// a missing entry point): never PAM_SUCCESS by accident.
func Run(c Call) (int, error) {
	src, err := os.ReadFile(c.Path)
	if err != nil {
		return pamServiceErr, err
	}
	compile := starhost.Compile
	if c.Recursion {
		compile = starhost.CompileRecursive
	}
	script, err := compile(c.Path, src)
	if err != nil {
		return pamServiceErr, err
	}
	name := strings.TrimSuffix(filepath.Base(c.Path), ".py")
	run, err := script.StartWith(c.Host, starlark.StringDict{
		"__file__": starlark.String(c.Path), "__name__": starlark.String(name)})
	if err != nil {
		return pamServiceErr, err
	}
	defer run.Stop()
	if err := restoreState(run, c.PAM, c.Path); err != nil {
		return pamServiceErr, err
	}
	fn, ok := run.Globals[c.Entry]
	if c.Entry == "pam_sm_end" {
		// optional; called with pamh alone; what it returns is ignored
		if ok {
			if _, err := run.Call(c.Entry, NewPamh(c.PAM)); err != nil {
				return pamServiceErr, err
			}
		}
		return 0, nil
	}
	if !ok {
		return pamSymbolErr, fmt.Errorf("%s() isn't defined", c.Entry)
	}
	if _, callable := fn.(starlark.Callable); !callable {
		return pamServiceErr, fmt.Errorf("%s isn't a function", c.Entry)
	}
	argv := make([]starlark.Value, len(c.Argv))
	for i, a := range c.Argv {
		argv[i] = starlark.String(a)
	}
	v, err := run.Call(c.Entry, NewPamh(c.PAM), starlark.MakeInt(c.Flags), starlark.NewList(argv))
	if err != nil {
		return pamServiceErr, err
	}
	if err := saveState(run, c.PAM, c.Path); err != nil {
		return pamServiceErr, err
	}
	return result(c.Entry, v)
}

// result checks what an entry point returned (pam_python turns False into
// PAM_SUCCESS and truncates large ints to it; this does not).
func result(entry string, v starlark.Value) (int, error) {
	i, ok := v.(starlark.Int)
	if !ok {
		return pamServiceErr, fmt.Errorf("%s() did not return an integer but %s", entry, v.Type())
	}
	n, exact := i.Int64()
	if !exact || n < 0 || n >= pamconst.ReturnValues {
		return pamServiceErr, fmt.Errorf("%s() returned %s, not a PAM code from 0 to %d", entry, i, pamconst.ReturnValues-1)
	}
	return int(n), nil
}

// saveState keeps the script's dicts and lists on the PAM handle. Starlark
// has no `global` statement, so functions can change module state only
// inside containers; their contents are all there is to keep.
func saveState(run *starhost.Run, pam PAM, path string) error {
	state := map[string]json.RawMessage{}
	for name, v := range run.Globals {
		switch v.(type) {
		case *starlark.Dict, *starlark.List:
		default:
			continue
		}
		enc, err := starlark.Call(run.Thread(), starjson.Module.Members["encode"], starlark.Tuple{v}, nil)
		if err != nil {
			continue // not JSON-like: it lives for this call only
		}
		state[name] = json.RawMessage(enc.(starlark.String))
	}
	if len(state) == 0 {
		return nil
	}
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	return pam.SetData(globalsKey(path), string(data), true)
}

// restoreState refills the dicts and lists the top level made with what
// earlier calls of this handle left in them.
func restoreState(run *starhost.Run, pam PAM, path string) error {
	data, ok, err := pam.GetData(globalsKey(path))
	if err != nil || !ok {
		return err
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &state); err != nil {
		return fmt.Errorf("module state of an earlier call: %w", err)
	}
	for name, raw := range state {
		saved, err := starlark.Call(run.Thread(), starjson.Module.Members["decode"], starlark.Tuple{starlark.String(raw)}, nil)
		if err != nil {
			return err
		}
		switch dst := run.Globals[name].(type) {
		case *starlark.Dict:
			src, ok := saved.(*starlark.Dict)
			if !ok {
				continue
			}
			dst.Clear()
			for _, kv := range src.Items() {
				dst.SetKey(kv[0], kv[1])
			}
		case *starlark.List:
			src, ok := saved.(*starlark.List)
			if !ok {
				continue
			}
			dst.Clear()
			for i := 0; i < src.Len(); i++ {
				dst.Append(src.Index(i))
			}
		}
	}
	return nil
}
