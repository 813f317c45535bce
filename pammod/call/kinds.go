package call

import (
	"slices"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// authKinds are the kinds a login may be. An sshd login is a password one
// (SSHD rules: a PAM authentication succeeded) or a key one (SSHD-KEY
// rules: public key, certificate, GSSAPI); every other service's logins
// are of no kind. A login whose kind cannot be told must pass as each.
type authKinds []rules.AuthKind

func (k authKinds) has(a rules.AuthKind) bool  { return slices.Contains(k, a) }
func (k authKinds) only(a rules.AuthKind) bool { return len(k) == 1 && k[0] == a }

func (k authKinds) without(a rules.AuthKind) authKinds {
	return slices.DeleteFunc(slices.Clone(k), func(x rules.AuthKind) bool { return x == a })
}

// kinds learns the kind of this login from what the host tells, never from
// which phase came first (sshd runs account for a key login on the handle
// where a password just failed):
//
//   - auth: a PAM authentication is running, a password one;
//   - account and session: a decision of this login that a phase confirmed
//     says it; otherwise the module's word on how the application's last
//     pam_authenticate on the handle ended: succeeded is a password login,
//     failed or none a key login, unknown both (a module older than that
//     word, loaded before an upgrade: the earlier phase's decision, as
//     before);
//   - session, too: sshd's SSH_AUTH_INFO_0, the methods that succeeded
//     (complete only by then: sshd runs account before it records the
//     last one). It can only add a kind, so whoever plants it in the PAM
//     environment (pam_env's user_readenv) can only cost a login.
func (c *call) kinds(login rules.Login, d loginstate.Decision, found bool) authKinds {
	if !login.IsSSHD() {
		return authKinds{rules.AuthNone}
	}
	if c.req.Fn == protocol.FnAuthenticate {
		return authKinds{rules.AuthPassword}
	}
	var k authKinds
	switch {
	case found && d.Confirmed:
		k = authKinds{rules.AuthKind(d.Auth)}
	case c.req.Auth == protocol.AuthNotTold && found:
		// a module loaded before an upgrade: its phases are taken in
		// their order, as it was built for (skew never denies)
		k = authKinds{rules.AuthKind(d.Auth)}
	case c.req.Auth == protocol.AuthSucceeded:
		k = authKinds{rules.AuthPassword}
	case c.req.Auth == protocol.AuthUnknown:
		c.Log.Info("%s: how this sshd login authenticated cannot be told (the module says: %s); it must pass as a password and as a key login",
			c.req.Fn, c.req.Auth)
		k = authKinds{rules.AuthPassword, rules.AuthKey}
	default:
		k = authKinds{rules.AuthKey}
	}
	if c.req.Fn == protocol.FnOpenSession {
		if said, ok := c.sshdSays(); ok && !k.has(said) {
			c.Log.Error("%s: sshd says this login authenticated as a %s login, an earlier phase took it for %s; it must pass as both",
				c.req.Fn, said, k[0])
			k = append(k, said)
		}
	}
	return k
}

// confirms says whether this phase takes d, a decision of an auth phase,
// as made in an authentication that succeeded. For sshd the module must
// have seen it succeed (or cannot tell: kinds then adds the key kind).
// Other applications (login, su, sudo, gdm, polkit) call account and
// session only after their authentication succeeded, which holds unless
// the module saw the last one fail.
func (c *call) confirms(d loginstate.Decision) bool {
	if c.req.Fn == protocol.FnAuthenticate || d.Confirmed {
		return false
	}
	if c.req.Auth == protocol.AuthNotTold {
		return true
	}
	if !strings.EqualFold(d.Service, "sshd") {
		return c.req.Auth != protocol.AuthFailed
	}
	return c.req.Auth == protocol.AuthSucceeded || c.req.Auth == protocol.AuthUnknown
}

// authFate says what became of the authentication an unconfirmed decision
// was made in, for the log.
func (c *call) authFate() string {
	switch c.req.Auth {
	case protocol.AuthFailed:
		return "failed"
	case protocol.AuthNotSeen:
		return "is not known to have succeeded in this process"
	}
	return "did not succeed"
}

// sshdSays reads the kind of login sshd's SSH_AUTH_INFO_0 names: one line
// per method that succeeded, "method[/submethod] [key] [info]". Any PAM
// method (password, keyboard-interactive) makes a password login.
func (c *call) sshdSays() (rules.AuthKind, bool) {
	info, ok, err := c.PAM.GetEnv("SSH_AUTH_INFO_0")
	if err != nil {
		c.Log.Debug("%s: reading SSH_AUTH_INFO_0: %v", c.req.Fn, err)
		return "", false
	}
	if !ok {
		return "", false
	}
	return authKindOf(info)
}

// authKindOf reads SSH_AUTH_INFO_0.
func authKindOf(info string) (rules.AuthKind, bool) {
	said := false
	for _, line := range strings.Split(info, "\n") {
		method, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		method, _, _ = strings.Cut(method, "/")
		switch method {
		case "":
			continue
		case "password", "keyboard-interactive":
			return rules.AuthPassword, true
		}
		said = true
	}
	if said {
		return rules.AuthKey, true
	}
	return "", false
}
