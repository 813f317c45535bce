package pamd

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Rehearsal is a service's stack made into one that can be run anywhere,
// to prove that our lines are reached: every other module becomes
// pam_permit.so with its own control, so a transaction takes the path on
// which every module succeeds, the path on which a `sufficient` or a jump
// could skip us; our lines get the options a check needs (its rules, its
// helper). Files maps file names to texts, the service's own among them,
// with everything it includes, for a PAM directory of their own
// (pam_start_confdir, or pam_wrapper's service directory).
type Rehearsal struct {
	Files map[string][]byte
	// Types are the stack types that have a line of ours.
	Types []string
}

var (
	moduleLine = regexp.MustCompile(`^(\s*-?(?:auth|account|session|password)\s+(?:\[[^\]]*\]|\S+)\s+)(\S+)(.*)$`)
	permit     = "pam_permit.so"
)

// Rehearse builds the rehearsal of service, whose text is given (the new
// text, before it is written) and whose includes resolve reads, for the
// directory dir: includes name their files there by absolute path, since
// libpam reads a relative include from /etc/pam.d whatever the service's
// own directory. module is the path of our module to load ("" keeps the
// line's own), options are added to each line of ours.
func Rehearse(service string, text []byte, resolve Resolver, dir, module string, options ...string) (*Rehearsal, error) {
	r := &Rehearsal{Files: map[string][]byte{}}
	have := map[string]bool{}
	var add func(name string, text []byte, depth int) error
	add = func(name string, text []byte, depth int) error {
		if depth > 16 {
			return fmt.Errorf("%s: includes nest deeper than 16", name)
		}
		if filepath.Base(name) != name || name == "." || name == ".." {
			return fmt.Errorf("%s includes %q, which is not a file of the PAM directory: check it by hand", service, name)
		}
		if _, done := r.Files[name]; done {
			return nil
		}
		var out strings.Builder
		var includes []string
		r.Files[name] = nil // being written: a loop ends here
		for _, l := range lines(text) {
			nl := ""
			if strings.HasSuffix(l, "\n") {
				l, nl = strings.TrimSuffix(l, "\n"), "\n"
			}
			e, ok := parseLine(l)
			switch {
			case !ok:
			case e.control == "@include":
				includes = append(includes, e.target)
				l = "@include " + filepath.Join(dir, e.target)
			case e.control == "include" || e.control == "substack":
				includes = append(includes, e.target)
				l = e.typ + " " + e.control + " " + filepath.Join(dir, e.target)
			case isRuleLine(l):
				m := moduleLine.FindStringSubmatch(l)
				mod := m[2]
				if module != "" {
					mod = module
				}
				l = m[1] + mod + m[3]
				if len(options) > 0 {
					l += " " + strings.Join(options, " ")
				}
				if depth == 0 {
					have[e.typ] = true
				}
			default:
				if m := moduleLine.FindStringSubmatch(l); m != nil {
					l = m[1] + permit
				}
			}
			out.WriteString(l + nl)
		}
		r.Files[name] = []byte(out.String())
		for _, inc := range includes {
			sub, err := resolve(inc)
			if err != nil {
				return fmt.Errorf("%s includes %s: %w", name, inc, err)
			}
			if err := add(inc, sub, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(service, text, 0); err != nil {
		return nil, err
	}
	for _, t := range Types {
		if have[t] {
			r.Types = append(r.Types, t)
		}
	}
	return r, nil
}

func isRuleLine(l string) bool {
	_, ok := ruleLine(l)
	return ok
}
