package pycheck

import (
	"sort"
	"strings"
)

// Fixes: edits to the source, made line for line, that the findings
// show and that the Python check compiles.

type edit struct {
	off, end int
	text     string
	sl       bool // for the Starlark engine only
}

// applyEdits makes the edits, the earliest and widest first, dropping
// one that overlaps one made. A replaced span keeps its line breaks, so
// every line keeps its number.
func applyEdits(src string, edits []edit) string {
	es := append([]edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].off != es[j].off {
			return es[i].off < es[j].off
		}
		return es[i].end-es[i].off > es[j].end-es[j].off
	})
	var b strings.Builder
	last := 0
	for _, e := range es {
		if e.off < last {
			continue
		}
		b.WriteString(src[last:e.off])
		b.WriteString(e.text)
		if n := strings.Count(src[e.off:e.end], "\n") - strings.Count(e.text, "\n"); n > 0 {
			b.WriteString(strings.Repeat("\n", n))
		}
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String()
}

func (a *analysis) edit(off, end int, text string) {
	a.edits = append(a.edits, edit{off, end, text, false})
}

// sledit is an edit for the Starlark engine only.
func (a *analysis) sledit(off, end int, text string) {
	if a.sl {
		a.edits = append(a.edits, edit{off, end, text, true})
	}
}

// fixLater makes the last finding's fix the statement from off to end as
// the Python 3 edits leave it, once every edit is known.
func (a *analysis) fixLater(off, end int) {
	a.later = append(a.later, span{len(a.findings) - 1, off, end})
}

type span struct{ finding, off, end int }

func (a *analysis) renderFixes() {
	for _, l := range a.later {
		var inside []edit
		for _, e := range a.edits {
			if !e.sl && e.off >= l.off && e.end <= l.end {
				inside = append(inside, edit{e.off - l.off, e.end - l.off, e.text, false})
			}
		}
		a.findings[l.finding].Fix = short(applyEdits(a.src[l.off:l.end], inside))
	}
}
