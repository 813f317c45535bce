package checkconfig

import (
	"fmt"
	"os"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// lintServices reports rules for a PAM service that neither exists on this
// machine nor is a common one: most likely a typo (SHSD, LOGON).
// A broken line that refuses the logins of such a service is warned about
// too: it refuses no login here, and the line may have been meant for
// another service.
func lintServices(cfg *rules.Config) []rules.Problem {
	var out []rules.Problem
	unknown := func(pos rules.Pos, s rules.Service, then string) {
		if s.IsCategory() || rules.IsWellKnownService(s.Name) {
			return
		}
		name := strings.ToLower(s.Name)
		if serviceInstalled(name) {
			return
		}
		out = append(out, rules.Problem{Pos: pos, Severity: rules.Warning, Message: fmt.Sprintf(
			"unknown service %q: no /etc/pam.d/%s on this machine and not a common PAM service (a typo?)%s",
			s.Name, name, then)})
	}
	kept := map[rules.Pos]bool{}
	for _, r := range cfg.Rules {
		unknown(r.Pos, r.Service, "")
		kept[r.Pos] = true
	}
	for _, p := range cfg.Problems {
		if p.Locks != nil && !p.Locks.All && !kept[p.Pos] {
			unknown(p.Pos, p.Locks.Service, "; so this broken line refuses no login here")
			kept[p.Pos] = true
		}
	}
	return out
}

func serviceInstalled(name string) bool {
	for _, dir := range []string{"/etc/pam.d/", "/usr/lib/pam.d/"} {
		if _, err := os.Stat(dir + name); err == nil {
			return true
		}
	}
	return false
}
