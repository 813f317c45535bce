package pamd

import (
	"fmt"
	"strconv"
	"strings"
)

// A Resolver reads a file that a service includes (`include`, `substack`,
// `@include`), by the name the line gives.
type Resolver func(name string) ([]byte, error)

// entry is one parsed line of a service file.
type entry struct {
	typ     string // auth, account, session, password; "" for @include and lines that are not rules
	control string // required, sufficient, include, substack, [value=action …]; "@include"
	target  string // the module, or the included file
}

// parseLine reads one line the way libpam does: a comment runs from "#" to
// the end, a leading "-" only makes a missing module silent, and a control
// in brackets may hold blanks.
func parseLine(l string) (entry, bool) {
	if i := strings.IndexByte(l, '#'); i >= 0 {
		l = l[:i]
	}
	l = strings.TrimSpace(l)
	if l == "" {
		return entry{}, false
	}
	if rest, ok := strings.CutPrefix(l, "@include"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		f := strings.Fields(rest)
		if len(f) == 0 {
			return entry{control: "@include"}, true
		}
		return entry{control: "@include", target: f[0]}, true
	}
	typ, rest := cutField(l)
	typ = strings.ToLower(strings.TrimPrefix(typ, "-"))
	var control string
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return entry{typ: typ, control: rest}, true // unterminated: unknown
		}
		control, rest = rest[:end+1], strings.TrimSpace(rest[end+1:])
	} else {
		control, rest = cutField(rest)
	}
	target, _ := cutField(rest)
	return entry{typ: typ, control: strings.ToLower(control), target: target}, true
}

// unit is one module of a stack once includes are expanded: a substack
// counts as one module, since its done, die and jumps stay inside it.
type unit struct {
	top   int    // the index of the line of the service file it comes from
	where string // file:line, for messages
	text  string // the line
	ends  bool   // may end the stack early with success: sufficient, binding, done, unknown
	jump  int    // the longest forward jump of a [value=N] action
}

// expand lists the modules of type typ that the service's lines run, in
// order, following includes. Includes deeper than 16 or in a loop are an
// error; an include that cannot be read counts as a module that may end
// the stack (what it would run is unknown).
func expand(name string, text []byte, typ string, resolve Resolver) ([]unit, error) {
	var out []unit
	var walk func(file string, text []byte, top int, depth int, seen []string) error
	walk = func(file string, text []byte, top int, depth int, seen []string) error {
		if depth > 16 {
			return fmt.Errorf("%s: includes nest deeper than 16", file)
		}
		for i, l := range lines(text) {
			e, ok := parseLine(l)
			if !ok {
				continue
			}
			at := top
			if depth == 0 {
				at = i
			}
			where := fmt.Sprintf("%s:%d", file, i+1)
			include := e.control == "@include" || (e.typ == typ && e.control == "include")
			if !include && e.typ != typ {
				continue
			}
			if include {
				for _, s := range seen {
					if s == e.target {
						return fmt.Errorf("%s: %s includes itself", where, e.target)
					}
				}
				sub, err := resolve(e.target)
				if err != nil || e.target == "" {
					out = append(out, unit{top: at, where: where, text: strings.TrimSpace(l), ends: true})
					continue
				}
				if err := walk(e.target, sub, at, depth+1, append(seen, e.target)); err != nil {
					return err
				}
				continue
			}
			u := unit{top: at, where: where, text: strings.TrimSpace(l)}
			u.ends, u.jump = controlEffect(e.control)
			if isTokenLine(l) {
				// it decides as our auth line would (tokens.go): its
				// success=done skips nothing of ours
				u.ends = false
			}
			out = append(out, u)
		}
		return nil
	}
	return out, walk(name, text, 0, 0, []string{name})
}

// controlEffect says whether a control may end the stack early with
// success, and how far it may jump. required, requisite and optional
// never do; requisite and die end it with a failure, which is not early
// success. Anything unknown is taken to end it.
func controlEffect(control string) (ends bool, jump int) {
	switch control {
	case "required", "requisite", "optional", "substack":
		return false, 0
	case "sufficient", "binding":
		return true, 0
	}
	inner, ok := strings.CutPrefix(control, "[")
	if !ok || !strings.HasSuffix(inner, "]") {
		return true, 0
	}
	for _, pair := range strings.Fields(strings.TrimSuffix(inner, "]")) {
		_, action, ok := strings.Cut(pair, "=")
		if !ok {
			return true, 0
		}
		switch action {
		case "ignore", "bad", "die", "ok", "reset":
		case "done":
			ends = true
		default:
			n, err := strconv.Atoi(action)
			if err != nil || n < 0 {
				return true, 0
			}
			jump = max(jump, n)
		}
	}
	return ends, jump
}

// skipper returns the module that may keep a line inserted before the
// service's line top (len(lines) for the end) from running: one that may
// end the stack early with success before it, or a jump over it (which
// would also change what the jump lands on). ok is false when none can.
func skipper(units []unit, top int) (unit, bool) {
	at := len(units) // the expanded index the new line would get
	for i, u := range units {
		if u.top >= top {
			at = i
			break
		}
	}
	for i, u := range units[:at] {
		if u.ends || (u.jump > 0 && at <= i+u.jump) {
			return u, true
		}
	}
	return unit{}, false
}

// cutField splits s at its first run of blanks.
func cutField(s string) (field, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}
