package checkconfig

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// checkPlugins compiles every plugin the rules use: a plugin that does not
// compile fails every login it is asked about.
func checkPlugins(cfg *rules.Config) []rules.Problem {
	var out []rules.Problem
	for _, name := range slices.Sorted(maps.Keys(cfg.Plugins)) {
		path := cfg.Plugins[name]
		if _, err := starhost.Load(path); err != nil {
			out = append(out, rules.Problem{Pos: rules.Pos{File: path}, Severity: rules.Warning,
				Message: fmt.Sprintf("plugin %s does not load, so logins it is asked about are denied: %v", name, err)})
		}
	}
	return out
}
