package checkconfig

import (
	"fmt"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// checkHostNames warns at every host name in a HOST list: PAM_RHOST shows a
// name only when the host application looked it up itself (vsftpd, sshd
// with UseDNS yes), and whoever controls the client's PTR record chooses
// it. What the entry does depends on HOST_NAMES (docs/rules.md, "Remote host
// names"); the warning says it. With HOST_NAMES:TRUST it also warns at a
// CLOSE rule's addresses and networks, which then let a name through.
func checkHostNames(cfg *rules.Config) []rules.Problem {
	const ptr = "whoever controls the PTR record of a client's address can put any name in PAM_RHOST"
	trust := cfg.Settings.TrustHostNames
	var out []rules.Problem
	warn := func(r *rules.Rule, format string, args ...any) {
		out = append(out, rules.Problem{Pos: r.Pos, Severity: rules.Warning, Message: fmt.Sprintf(format, args...)})
	}
	for _, r := range cfg.Rules {
		if r.Target != rules.TargetHost {
			continue
		}
		networks := false
		for _, h := range r.Hosts {
			networks = networks || h.IsNetwork()
			if !h.IsName() || strings.EqualFold(h.Text, rules.LocalHost) { // "local" has its own warning
				continue
			}
			entry := fmt.Sprintf("HOST entry %q is a host name", h.Text)
			switch {
			case r.Option == rules.OptClose:
				warn(r, "%s: it closes only a login whose PAM_RHOST shows this very name (with or without HOST_NAMES:TRUST); "+
					"a client whose PTR record says another name, or a host application that passes addresses, is not closed by it: "+
					"close its address or network", entry)
			case trust:
				warn(r, "%s, matched because HOST_NAMES:TRUST is set: %s; list its address or network instead", entry, ptr)
			case r.Option == rules.OptPlugin:
				warn(r, "%s: plugin %s is asked about it, but its OPEN counts only with HOST_NAMES:TRUST, since %s; "+
					"list its address or network instead", entry, r.Plugin, ptr)
			case r.Option == rules.OptOpen:
				warn(r, "%s: it lets no login in, since %s; it matches only with HOST_NAMES:TRUST; "+
					"list its address or network instead", entry, ptr)
			default: // ASK, PIN, PINGPG
				warn(r, "%s: it lets no login in, since %s; it matches only with HOST_NAMES:TRUST "+
					"(without, it can only turn a login that another rule opens into %s); list its address or network instead",
					entry, ptr, r.Option)
			}
		}
		if trust && networks && r.Option == rules.OptClose {
			warn(r, "with HOST_NAMES:TRUST, the addresses and networks of a CLOSE rule do not close a login whose PAM_RHOST "+
				"is a host name (without it, they do)")
		}
	}
	return out
}
