package starhost

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// structSeq is CPython's struct sequence (pwd.struct_passwd,
// grp.struct_group, time.struct_time): a tuple whose items also have
// names. e[2], e[-1], e[1:3], len(e), iteration, unpacking and e.pw_uid
// all work, as in Python.
type structSeq struct {
	module, name string // "pwd", "struct_passwd"
	fields       []string
	values       starlark.Tuple
}

var (
	_ starlark.Indexable  = (*structSeq)(nil)
	_ starlark.Sliceable  = (*structSeq)(nil)
	_ starlark.Sequence   = (*structSeq)(nil)
	_ starlark.HasAttrs   = (*structSeq)(nil)
	_ starlark.Comparable = (*structSeq)(nil)
)

func newStructSeq(module, name string, fields []string, values ...starlark.Value) *structSeq {
	if len(fields) != len(values) {
		panic(fmt.Sprintf("%s.%s: %d fields, %d values", module, name, len(fields), len(values)))
	}
	return &structSeq{module: module, name: name, fields: fields, values: values}
}

// String is CPython's repr, with Starlark's quoting:
// pwd.struct_passwd(pw_name="root", …).
func (s *structSeq) String() string {
	var b strings.Builder
	b.WriteString(s.module + "." + s.name + "(")
	for i, f := range s.fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f + "=" + s.values[i].String())
	}
	b.WriteString(")")
	return b.String()
}

func (s *structSeq) Type() string               { return s.name }
func (s *structSeq) Freeze()                    { s.values.Freeze() }
func (s *structSeq) Truth() starlark.Bool       { return len(s.values) > 0 }
func (s *structSeq) Hash() (uint32, error)      { return s.values.Hash() }
func (s *structSeq) Index(i int) starlark.Value { return s.values[i] }
func (s *structSeq) Len() int                   { return len(s.values) }
func (s *structSeq) Iterate() starlark.Iterator { return s.values.Iterate() }
func (s *structSeq) Slice(start, end, step int) starlark.Value {
	return s.values.Slice(start, end, step) // a tuple, as in Python
}

func (s *structSeq) AttrNames() []string { return append([]string(nil), s.fields...) }

func (s *structSeq) Attr(name string) (starlark.Value, error) {
	for i, f := range s.fields {
		if f == name {
			return s.values[i], nil
		}
	}
	return nil, nil
}

// CompareSameType compares as tuples do, entries of one kind only.
func (s *structSeq) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	other := y.(*structSeq)
	if other.module != s.module || other.name != s.name {
		switch op {
		case syntax.EQL:
			return false, nil
		case syntax.NEQ:
			return true, nil
		}
		return false, fmt.Errorf("cannot compare %s.%s with %s.%s", s.module, s.name, other.module, other.name)
	}
	return starlark.CompareDepth(op, s.values, other.values, depth)
}
