//go:build !lean

package call

import (
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/plugin"
)

// plugins runs the config's rule plugins in Starlark, with the call's
// groups, sessions and PAM conversation.
func (c *call) plugins(deps rules.Deps) rules.Plugins {
	return &plugin.Runner{
		Host:     &starhost.Host{Log: c.pluginLog},
		Files:    c.cfg.Plugins,
		Groups:   deps.Groups,
		Sessions: deps.Sessions,
		Converse: c.PAM.Converse,
	}
}

// pluginLog is where a plugin's syslog() and print() go.
func (c *call) pluginLog(priority int, msg string) {
	if priority <= 3 {
		c.Log.Error("plugin: %s", msg)
		return
	}
	c.Log.Info("plugin: %s", msg)
}
