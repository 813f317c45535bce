//go:build !cgo || osusergo

package nss

// Without cgo, os/user reads /etc/group itself and LDAP, SSSD and AD groups
// silently stop counting, which would change who rules let in. Refuse to
// build instead: CGO_ENABLED=1 and no osusergo tag.
var _ int = "internal/nss must be built with cgo (CGO_ENABLED=1, no osusergo tag)"
