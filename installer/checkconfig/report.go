package checkconfig

import (
	"fmt"
	"io"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// Report is check-my-config's result, also its --json form.
type Report struct {
	OK       bool      `json:"ok"`
	Files    []string  `json:"files"`
	Rules    int       `json:"rules"`
	Problems []Problem `json:"problems"`
}

// Problem is one thing to fix.
type Problem struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Text     string `json:"text,omitempty"` // the line as written
	// Refuses names the logins a broken line refuses until it is fixed
	// (severity "error"), like "every SSHD login (sshd with a password or
	// keyboard-interactive)"
	Refuses string `json:"refuses,omitempty"`
}

// Print writes the report as text: each problem with its line, then a
// summary, and what a refused file or a broken line does to logins.
func (r Report) Print(w io.Writer) {
	for _, p := range r.Problems {
		if p.Line > 0 {
			fmt.Fprintf(w, "%s:%d: %s: %s\n", p.File, p.Line, p.Severity, p.Message)
		} else {
			fmt.Fprintf(w, "%s: %s: %s\n", p.File, p.Severity, p.Message)
		}
		if p.Text != "" {
			fmt.Fprintf(w, "    %s\n", p.Text)
		}
	}
	summary := fmt.Sprintf("%d file(s), %d rule(s)", len(r.Files), r.Rules)
	if r.OK {
		fmt.Fprintf(w, "OK: %s, no problems\n", summary)
		return
	}
	fmt.Fprintf(w, "%s, %d problem(s)\n", summary, len(r.Problems))
	refused, errors := false, map[string]bool{}
	for _, p := range r.Problems {
		refused = refused || p.Severity == rules.Fatal.String()
		if p.Severity == "error" {
			errors[fmt.Sprintf("%s:%d", p.File, p.Line)] = true
		}
	}
	if refused {
		fmt.Fprintln(w, "REFUSED: every login is denied until each refused file is fixed")
	}
	if len(errors) > 0 {
		fmt.Fprintf(w, "ERRORS: %d broken line(s) could have kept logins out: the logins each one names are refused until it is fixed\n", len(errors))
	}
}
