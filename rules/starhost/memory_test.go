package starhost

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAllocationBombs: a script that allocates without end is stopped
// with an error that says so, its run's memory bound (64 MiB here) kept
// within a doubling or two; one that could not be stopped between steps
// (one Go call building it all) is refused before it begins. What fits
// still runs. The test process's data is capped at 4 GiB meanwhile, so
// that a bomb that gets through kills the test, not the machine.
func TestAllocationBombs(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_DATA, &old); err != nil {
		t.Fatal(err)
	}
	capped := syscall.Rlimit{Cur: min(old.Cur, 4<<30), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &capped); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_DATA, &old)

	h := &Host{Limits: Limits{Steps: 10_000_000, Time: 20 * time.Second, Memory: 64 << 20}}
	const limit = "its memory limit (64 MiB)"
	for _, tt := range []struct {
		name, pre, expr string
		want            string // the repr, or "error: " and a part of the error
	}{
		{"a repeat past go.starlark.net's cap", "", `"x" * (1 << 40)`, "error: repeat count 1099511627776 too large"},
		{"a loop doubling a string", "s = \"x\"\nfor i in range(64):\n    s = s + s", "len(s)", "error: used more than " + limit},
		{"a loop growing a list", "l = []\nfor i in range(1000000):\n    l.append(\"x\" * 1000)", "len(l)", "error: used more than " + limit},
		{"a repeat under the cap, past the bound", "s = \"x\" * (256 << 20)\nt = s + \"y\"", "len(t)", "error: used more than " + limit},
		{"list(range(huge))", "", "list(range(1 << 40))", "error: list(): 1099511627776 elements would take more than " + limit},
		{"sorted(range(huge))", "", "sorted(range(1 << 40))", "error: sorted(): 1099511627776 elements"},
		{"tuple(range(huge))", "", "tuple(range(1 << 30))", "error: tuple(): 1073741824 elements would take more than " + limit},
		{"set(range(huge))", "", "set(range(1 << 30))", "error: set(): 1073741824 elements"},
		{"enumerate(range(huge))", "", "enumerate(range(1 << 30))", "error: enumerate(): 1073741824 elements"},
		{"zip(range(huge))", "", "zip(range(5), range(1 << 30))", "error: zip(): 1073741824 elements"},
		{"reversed(range(huge))", "", "reversed(range(1 << 30))", "error: reversed(): 1073741824 elements"},
		{"dict(huge)", "r = range(1 << 30)", "dict(zip(r, r))", "error: zip(): 1073741824 elements"},
		{"a limit is not caught", "", "catch(list, range(1 << 40))", "error: list(): 1099511627776 elements"},
		{"json.encode of a shared string", `s = "x" * (1 << 20)`, "json.encode([s] * 100)", "error: json.encode: more than 16 MiB"},
		{"json.encode_indent, deep", "l = []\nfor i in range(900):\n    l = [l]", `json.encode_indent(l, indent = " " * 100)`, "error: json.encode_indent: more than 16 MiB"},
		{"json.indent, deep", "", `json.indent("[" * 5000 + "]" * 5000, indent = "x" * 100)`, "error: json.indent: more than 16 MiB"},
		{"json.decode, long", `s = "[" + "0," * (3 << 20) + "0]"`, "json.decode(s)", "error: json.decode: the text is more than 4 MiB"},
		{"json.loads, long", `s = "[" + "0," * (3 << 20) + "0]"`, "json.loads(s)", "error: json.loads: the text is more than 4 MiB"},
		{"what fits: a list", "", "len(list(range(100000)))", "100000"},
		{"what fits: json.encode", "", `json.encode({"a": [1, "b\n", None, 2.5, ("t",)], "s": "<&>"})`, `"{\"a\":[1,\"b\\n\",null,2.5,[\"t\"]],\"s\":\"<&>\"}"`},
		{"what fits: 15 MiB of JSON", "", `len(json.encode("x" * (15 << 20)))`, "15728642"},
		{"what fits: json.indent", "", `json.indent('{"a":[1,2]}', indent = "  ")`, `"{\n  \"a\": [\n    1,\n    2\n  ]\n}"`},
		{"what fits: a string of 32 MiB", "", `len("x" * (32 << 20))`, "33554432"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				v   string
				err error
			}
			done := make(chan result, 1)
			go func() {
				v, err := eval(t, h, tt.pre, tt.expr)
				r := result{err: err}
				if err == nil {
					r.v = v.String()
				}
				done <- r
			}()
			var got result
			select {
			case got = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the script runs on")
			}
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if got.err == nil || !strings.Contains(got.err.Error(), want) {
					t.Fatalf("got %s, %v; want an error with %q", got.v, got.err, want)
				}
				return
			}
			if got.err != nil || got.v != tt.want {
				t.Fatalf("got %s, %v; want %s", got.v, got.err, tt.want)
			}
		})
	}
}
