package starhost

import (
	"fmt"
	"unicode/utf8"

	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
)

// Bounds of Starlark's json functions, which build their result in one Go
// call: no step is counted and no memory watch can stop it (memory.go).
// json.encode([s] * 100000) writes s 100000 times; json.indent of
// "[[[…]]]" with a long indent grows with the square of the depth.
const (
	// maxJSONDecode bounds what json.decode and json.loads read: a value
	// takes up to some 30 times its text.
	maxJSONDecode = 4 << 20
)

// boundedJSON returns Starlark's json member name, refusing beforehand
// what would write more than maxJSONSize (json.dumps' bound) or read more
// than maxJSONDecode.
func boundedJSON(name string) *starlark.Builtin {
	orig := starjson.Module.Members[name].(*starlark.Builtin)
	return starlark.NewBuiltin(orig.Name(), func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		prefix, indent := "", "\t"
		for _, kv := range kw {
			s, _ := starlark.AsString(kv[1])
			switch kv[0] {
			case starlark.String("prefix"):
				prefix = s
			case starlark.String("indent"):
				indent = s
			}
		}
		if len(args) == 1 {
			size := 0
			switch name {
			case "encode":
				size = encodedSize(args[0], 0, 0, 0, nil)
			case "encode_indent":
				size = encodedSize(args[0], 1+len(prefix), len(indent), 0, nil)
			case "indent":
				s, _ := starlark.AsString(args[0])
				size = indentedSize(s, 1+len(prefix), len(indent))
			case "decode":
				if s, _ := starlark.AsString(args[0]); len(s) > maxJSONDecode {
					return nil, fmt.Errorf("%s: the text is more than %d MiB", orig.Name(), maxJSONDecode>>20)
				}
			}
			if size > maxJSONSize {
				return nil, fmt.Errorf("%s: more than %d MiB", orig.Name(), maxJSONSize>>20)
			}
		}
		return orig.CallInternal(t, args, kw)
	})
}

// encodedSize is what json.encode writes for v, or a little more (floats
// at their longest, "<", ">" and "&" escaped), each element and key on a line of its own
// costing line bytes and level bytes a level of depth when indented. It
// stops adding once past maxJSONSize, so that its cost is bounded too,
// whatever v shares; open holds the lists and dicts being walked, whose
// cycles json.encode reports.
func encodedSize(v starlark.Value, line, level, depth int, open []starlark.Value) int {
	elem := 0
	if line > 0 {
		elem = line + level*(depth+1)
	}
	switch x := v.(type) {
	case starlark.NoneType, starlark.Bool, starlark.Float:
		return 32
	case starlark.Int:
		return len(x.String())
	case starlark.String:
		return quotedSize(string(x))
	case *starlark.List, *starlark.Dict:
		for _, o := range open {
			if o == v {
				return 0
			}
		}
		open = append(open, v)
	}
	n := 2 + elem
	switch x := v.(type) {
	case starlark.IterableMapping:
		for _, item := range x.Items() {
			if n > maxJSONSize {
				break
			}
			n += encodedSize(item[0], 0, 0, 0, nil) + 2 + elem + encodedSize(item[1], line, level, depth+1, open)
		}
	case starlark.Iterable:
		iter := x.Iterate()
		defer iter.Done()
		var e starlark.Value
		for n <= maxJSONSize && iter.Next(&e) {
			n += 1 + elem + encodedSize(e, line, level, depth+1, open)
		}
	case starlark.HasAttrs:
		for _, name := range x.AttrNames() {
			if n > maxJSONSize {
				break
			}
			if a, err := x.Attr(name); err == nil && a != nil {
				n += quotedSize(name) + 2 + elem + encodedSize(a, line, level, depth+1, open)
			}
		}
	}
	return n
}

// quotedSize is the length of s quoted in JSON, or a little more.
func quotedSize(s string) int {
	if len(s) > maxJSONSize {
		return len(s) + 2 // past the bound already
	}
	n := 2
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			n += 2
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 || r == 0x2029 || r == utf8.RuneError:
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// indentedSize is at least what json.indent writes for the JSON text s:
// each bracket and comma outside strings starts a line of line bytes and
// level bytes a level of depth. It stops once past maxJSONSize.
func indentedSize(s string, line, level int) int {
	n, depth, inString, escaped := len(s), 0, false, false
	for i := 0; i < len(s) && n <= maxJSONSize; i++ {
		c := s[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			n += line + level*depth
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
			n += line + level*depth
		case c == ',':
			n += line + level*depth
		case c == ':':
			n++
		}
	}
	return n
}
