//go:build lean

package call

import (
	"errors"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// The lean build (go build -tags lean) is the helper the module runs for
// each call when no daemon answers. Its start is most of what a login
// costs there, and the start grows with what the program links: the
// dynamic loader relocates every pointer of a PIE's data, and each
// package's init runs. Rule plugins (Starlark), OPA (an HTTP client) and
// PIN mail (SMTP, OpenPGP) are most of the program, so the lean build
// leaves them out: its helper (pammod/helper/lean.go) hands a call whose
// config uses them to the full helper before reading it. Should such a
// rule reach a lean call anyway (the config changed in between), rules
// fails the rule closed for want of a runner, and a PIN cannot be mailed
// (no PINSender): the login is denied, never let in.

// plugins: none in the lean build.
func (c *call) plugins(rules.Deps) rules.Plugins { return nil }

// opaDecider: none in the lean build.
func (c *call) opaDecider() rules.OPA { return nil }

// NewTokenChecker: none in the lean build (internal/oidc is an HTTP and
// TLS client). A config with TOKEN rules goes to the full helper; should
// one reach a lean call anyway, its token is refused.
func NewTokenChecker(rules.OIDCSettings) (TokenChecker, error) {
	return nil, errors.New("the lean helper checks no tokens (the full helper does)")
}
