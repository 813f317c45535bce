package starhost

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// jsonModule is Starlark's json (encode, decode, indent) with CPython's
// dumps and loads beside them, so that scripts written for either run.
var jsonModule = &starlarkstruct.Module{Name: "json", Members: func() starlark.StringDict {
	m := starlark.StringDict{}
	for k, v := range starjson.Module.Members {
		m[k] = v
	}
	for _, k := range []string{"encode", "encode_indent", "indent", "decode"} {
		m[k] = boundedJSON(k) // jsonbound.go
	}
	m["dumps"] = starlark.NewBuiltin("json.dumps", jsonDumps)
	m["loads"] = starlark.NewBuiltin("json.loads", jsonLoads)
	return m
}()}

// Bounds of json.dumps, where CPython has its recursion limit and memory.
const (
	maxJSONDepth = 1000
	maxJSONSize  = 16 << 20
)

// json.dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True,
// allow_nan=True, indent=None, separators=None, sort_keys=False) writes
// what CPython writes: ", " and ": " between items, non-ASCII as \uXXXX,
// floats as repr, NaN and Infinity, tuples as arrays, int, float, bool and
// None keys as strings. cls and default are not provided.
func jsonDumps(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	indent, separators := starlark.Value(starlark.None), starlark.Value(starlark.None)
	e := &pyEncoder{ensureASCII: true, allowNaN: true}
	checkCircular := true
	if err := starlark.UnpackArgs(b.Name(), args, kw, "obj", &obj, "skipkeys?", &e.skipKeys,
		"ensure_ascii?", &e.ensureASCII, "check_circular?", &checkCircular, "allow_nan?", &e.allowNaN,
		"indent?", &indent, "separators?", &separators, "sort_keys?", &e.sortKeys); err != nil {
		return nil, err
	}
	if len(args) > 1 {
		return nil, fmt.Errorf("TypeError: %s: takes 1 positional argument but %d were given", b.Name(), len(args))
	}
	e.itemSep, e.keySep = ", ", ": "
	switch in := indent.(type) {
	case starlark.NoneType:
	case starlark.Int:
		n, ok := in.Int64()
		if !ok || n > 1000 {
			return nil, fmt.Errorf("ValueError: %s: indent %s is too large", b.Name(), in)
		}
		e.indent, e.indented, e.itemSep = strings.Repeat(" ", int(max(n, 0))), true, ","
	case starlark.String:
		if len(in) > 1000 {
			return nil, fmt.Errorf("ValueError: %s: indent of %d bytes is too large", b.Name(), len(in))
		}
		e.indent, e.indented, e.itemSep = string(in), true, ","
	default:
		return nil, fmt.Errorf("TypeError: %s: indent must be an int, a str or None, not %s", b.Name(), indent.Type())
	}
	if separators != starlark.None {
		seps, ok := separators.(starlark.Indexable)
		if !ok || seps.Len() != 2 {
			return nil, fmt.Errorf("TypeError: %s: separators must be (item_separator, key_separator)", b.Name())
		}
		item, ok1 := starlark.AsString(seps.Index(0))
		key, ok2 := starlark.AsString(seps.Index(1))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("TypeError: %s: separators must be strings", b.Name())
		}
		e.itemSep, e.keySep = item, key
	}
	if err := e.encode(obj, 0); err != nil {
		return nil, err
	}
	return starlark.String(e.buf.String()), nil
}

type pyEncoder struct {
	buf                strings.Builder
	indent             string
	indented           bool
	itemSep, keySep    string
	skipKeys, sortKeys bool
	ensureASCII        bool
	allowNaN           bool
	open               []starlark.Value // the lists and dicts being written, for cycles
}

func (e *pyEncoder) newline(level int) {
	if e.indented {
		e.buf.WriteByte('\n')
		for i := 0; i < level; i++ {
			e.buf.WriteString(e.indent)
		}
	}
}

func (e *pyEncoder) enter(v starlark.Value, level int) error {
	if level >= maxJSONDepth {
		return errors.New("RecursionError: json.dumps: nested deeper than 1000")
	}
	for _, o := range e.open {
		if o == v {
			return errors.New("ValueError: json.dumps: Circular reference detected")
		}
	}
	e.open = append(e.open, v)
	return nil
}

func (e *pyEncoder) encode(v starlark.Value, level int) error {
	if e.buf.Len() > maxJSONSize {
		return fmt.Errorf("json.dumps: more than %d MiB", maxJSONSize>>20)
	}
	switch x := v.(type) {
	case starlark.NoneType:
		e.buf.WriteString("null")
	case starlark.Bool:
		if x {
			e.buf.WriteString("true")
		} else {
			e.buf.WriteString("false")
		}
	case starlark.Int:
		e.buf.WriteString(x.String())
	case starlark.Float:
		s, err := e.float(float64(x))
		if err != nil {
			return err
		}
		e.buf.WriteString(s)
	case starlark.String:
		e.str(string(x))
	case *starlark.List, starlark.Tuple, *structSeq:
		seq := v.(starlark.Indexable)
		if l, isList := v.(*starlark.List); isList {
			if err := e.enter(l, level); err != nil {
				return err
			}
			defer func() { e.open = e.open[:len(e.open)-1] }()
		} else if level >= maxJSONDepth {
			return errors.New("RecursionError: json.dumps: nested deeper than 1000")
		}
		if seq.Len() == 0 {
			e.buf.WriteString("[]")
			return nil
		}
		e.buf.WriteByte('[')
		for i := 0; i < seq.Len(); i++ {
			if i > 0 {
				e.buf.WriteString(e.itemSep)
			}
			e.newline(level + 1)
			if err := e.encode(seq.Index(i), level+1); err != nil {
				return err
			}
		}
		e.newline(level)
		e.buf.WriteByte(']')
	case *starlark.Dict:
		if err := e.enter(x, level); err != nil {
			return err
		}
		defer func() { e.open = e.open[:len(e.open)-1] }()
		items := x.Items()
		if e.sortKeys {
			var cmpErr error
			sort.SliceStable(items, func(i, j int) bool {
				less, err := starlark.Compare(syntax.LT, items[i][0], items[j][0])
				if err != nil && cmpErr == nil {
					cmpErr = err
				}
				return less
			})
			if cmpErr != nil {
				return fmt.Errorf("TypeError: json.dumps: sort_keys: %v", cmpErr)
			}
		}
		e.buf.WriteByte('{')
		first := true
		for _, kv := range items {
			key, ok, err := e.key(kv[0])
			if err != nil {
				return err
			}
			if !ok {
				continue // skipkeys
			}
			if !first {
				e.buf.WriteString(e.itemSep)
			}
			first = false
			e.newline(level + 1)
			e.str(key)
			e.buf.WriteString(e.keySep)
			if err := e.encode(kv[1], level+1); err != nil {
				return err
			}
		}
		if !first {
			e.newline(level)
		}
		e.buf.WriteByte('}')
	default:
		return fmt.Errorf("TypeError: json.dumps: Object of type %s is not JSON serializable", v.Type())
	}
	return nil
}

// key is a dict key as CPython writes it, or ok false to skip it.
func (e *pyEncoder) key(k starlark.Value) (string, bool, error) {
	switch x := k.(type) {
	case starlark.String:
		return string(x), true, nil
	case starlark.Int:
		return x.String(), true, nil
	case starlark.Float:
		s, err := e.float(float64(x))
		return s, err == nil, err
	case starlark.Bool:
		if x {
			return "true", true, nil
		}
		return "false", true, nil
	case starlark.NoneType:
		return "null", true, nil
	}
	if e.skipKeys {
		return "", false, nil
	}
	return "", false, fmt.Errorf("TypeError: json.dumps: keys must be str, int, float, bool or None, not %s", k.Type())
}

func (e *pyEncoder) float(f float64) (string, error) {
	if (math.IsInf(f, 0) || math.IsNaN(f)) && !e.allowNaN {
		return "", fmt.Errorf("ValueError: json.dumps: Out of range float values are not JSON compliant: %v", f)
	}
	return pyFloatRepr(f), nil
}

// pyFloatRepr is float.__repr__ as json.dumps writes it: the shortest
// digits that read back the same, in exponent form below 1e-4 and from
// 1e16 on, otherwise with at least one decimal.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07, 1e+16: Python's form too
	_, exp, _ := strings.Cut(s, "e")
	if n, _ := strconv.Atoi(exp); n < -4 || n >= 16 {
		return s
	}
	s = strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// str writes a JSON string as CPython does: with ensure_ascii everything
// outside ' '…'~' escaped (\uXXXX, surrogate pairs past U+FFFF), without
// only '"', '\' and control characters. Bytes that are not UTF-8 are
// U+FFFD.
func (e *pyEncoder) str(s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		e.buf.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			e.buf.WriteByte(hex[(r>>shift)&0xf])
		}
	}
	e.buf.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			e.buf.WriteString(`\"`)
		case r == '\\':
			e.buf.WriteString(`\\`)
		case r == '\n':
			e.buf.WriteString(`\n`)
		case r == '\r':
			e.buf.WriteString(`\r`)
		case r == '\t':
			e.buf.WriteString(`\t`)
		case r == '\b':
			e.buf.WriteString(`\b`)
		case r == '\f':
			e.buf.WriteString(`\f`)
		case r < ' ':
			u(r)
		case r <= '~' || !e.ensureASCII:
			e.buf.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 + (r>>10)&0x3ff)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
	}
	e.buf.WriteByte('"')
}

// json.loads(s) reads JSON into dicts, lists, strings, ints (numbers
// without a fraction or exponent), floats, bools and None, as CPython
// does; NaN and Infinity, which CPython also reads, are not JSON and are
// refused.
func jsonLoads(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kw, "s", &s); err != nil {
		return nil, err
	}
	if len(s) > maxJSONDecode {
		return nil, fmt.Errorf("ValueError: %s: the text is more than %d MiB", b.Name(), maxJSONDecode>>20)
	}
	decode := starjson.Module.Members["decode"].(*starlark.Builtin)
	v, err := decode.CallInternal(t, starlark.Tuple{starlark.String(s)}, nil)
	if err != nil {
		return nil, fmt.Errorf("ValueError: json.loads: %s", strings.TrimPrefix(err.Error(), "json.decode: "))
	}
	return v, nil
}
