package explain

import (
	"fmt"
	"io"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// printExplain writes the verdict, the line that decided it, the reason
// and the trace, every line of the config shown printable.
func printExplain(w io.Writer, cfg *rules.Config, d rules.Decision) {
	fmt.Fprintln(w, d.Verdict)
	switch {
	case d.Rule != nil:
		fmt.Fprintf(w, "decided by: %s  %s\n", d.Rule.Pos, d.Rule.Text)
	case d.Broken != nil:
		fmt.Fprintf(w, "decided by: %s  %s  (a broken line: %s is refused until it is fixed)\n",
			d.Broken.Pos, cli.Lines{}.Get(d.Broken.Pos), d.Broken.Locks.Scope())
	case d.Err != nil:
		fmt.Fprintln(w, "decided by: an error; the login fails closed")
	case cfg.Settings.DefaultPos.IsZero():
		fmt.Fprintf(w, "decided by: the built-in DEFAULT:%s\n", cfg.Settings.Default)
	default:
		fmt.Fprintf(w, "decided by: %s  DEFAULT:%s\n", cfg.Settings.DefaultPos, cfg.Settings.Default)
	}
	if d.Verdict.Pending() {
		fmt.Fprintf(w, "reason: %s; %s\n", cli.Printable(d.Reason), d.Verdict.Note())
	} else {
		fmt.Fprintf(w, "reason: %s\n", cli.Printable(d.Reason))
	}
	if d.Verdict == rules.Token {
		o := cfg.Settings.OIDC
		provider := o.Issuer
		if o.Introspection != "" {
			provider += " (introspection at " + o.Introspection + ")"
		}
		claim, scope := o.UserClaim, o.Scope
		if claim == "" {
			claim = "sub"
		}
		if scope == "" {
			scope = "(any)"
		}
		fmt.Fprintf(w, "then: %s, once the password is a valid token\n", d.Then)
		fmt.Fprintf(w, "token: checked with %s as client %s; scope %s; %s must be the user; cached %v; provider down: OIDC_FALLBACK:%s\n",
			cli.Printable(provider), cli.Printable(o.ClientID), cli.Printable(scope), cli.Printable(claim), o.Cache, o.Fallback)
	}
	fmt.Fprintln(w, "trace:")
	width := 0
	for _, s := range d.Trace {
		if n := len(s.Pos.String()); !s.Pos.IsZero() && n > width {
			width = n
		}
	}
	for _, s := range d.Trace {
		pos := ""
		if !s.Pos.IsZero() {
			pos = s.Pos.String()
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, pos, cli.Printable(s.Text))
	}
	// what OPA's policy is told of this server (SERVER_GROUP), with or
	// without an OPA rule in the trace: the admin sees which group a
	// central policy will decide for
	fmt.Fprintf(w, "server group: %s (%s), sent to OPA as input.pam_accesscontrol.server_group\n",
		cli.Printable(cfg.Settings.ServerGroup), cfg.Settings.ServerGroupPos)
}

// countIgnored counts the config's ignored lines, which change what it
// means: explain points to check-my-config then.
func countIgnored(cfg *rules.Config) int {
	n := 0
	for _, p := range cfg.Problems {
		if p.Severity == rules.Ignored {
			n++
		}
	}
	return n
}
