package rules

import "strings"

// AuthKind says how an sshd login proved who it is. Rules tell SSHD
// (PAM ran authentication: password, keyboard-interactive) from SSHD-KEY
// (it did not: public key, certificate, GSSAPI).
type AuthKind string

const (
	AuthPassword AuthKind = "password"
	AuthKey      AuthKind = "key"
	AuthNone     AuthKind = "none" // not an sshd login, or not known
)

// Login is what one decision is about.
type Login struct {
	Service string // PAM_SERVICE, as the application gave it
	// User is the account's name as NSS gives it (ResolveUser), or
	// PAM_USER when NSS knows no such user.
	User string
	// PAMUser is PAM_USER as the application gave it (what the client
	// typed), when NSS names the account otherwise; "" when they agree.
	PAMUser string
	RHost   string // PAM_RHOST; empty for a local login
	Auth    AuthKind
	RUser   string // PAM_RUSER, for plugins
	TTY     string // PAM_TTY, for plugins
}

// IsSSHD reports whether the login comes through sshd.
func (l Login) IsSSHD() bool { return strings.EqualFold(l.Service, "sshd") }

// RuleService is the name an SSHD/SSHD-KEY aware rule sees for this login:
// "SSHD-KEY" for an sshd login without PAM authentication, otherwise the
// upper-cased PAM service name.
func (l Login) RuleService() string {
	if l.IsSSHD() && l.Auth == AuthKey {
		return "SSHD-KEY"
	}
	return strings.ToUpper(l.Service)
}

// RuleServices lists the SERVICE fields whose rules apply to the login,
// for the explain trace: "SSHD-KEY, SSH, ALL".
func (l Login) RuleServices() string {
	names := []string{l.RuleService()}
	switch {
	case l.IsSSHD():
		names = append(names, "SSH")
	case IsDisplayManager(l.Service):
		names = append(names, "XDM")
	case strings.EqualFold(l.Service, "login"):
		names = append(names, "TTY")
	}
	return strings.Join(append(names, "ALL"), ", ")
}

type serviceKind int

const (
	serviceName serviceKind = iota // one PAM service, by name
	serviceAll
	serviceSSH  // SSHD and SSHD-KEY
	serviceXDM  // the display managers
	serviceTTY  // login
	serviceSSHD // sshd with PAM authentication
	serviceSSHDKey
)

// Service is the first field of a rule.
type Service struct {
	Name string // upper-cased, as it stands in the rule
	kind serviceKind
}

var serviceKinds = map[string]serviceKind{
	"ALL": serviceAll, "SSH": serviceSSH, "XDM": serviceXDM, "TTY": serviceTTY,
	"SSHD": serviceSSHD, "SSHD-KEY": serviceSSHDKey,
}

func parseService(field string) Service {
	name := strings.ToUpper(field)
	return Service{Name: name, kind: serviceKinds[name]}
}

// IsCategory reports whether the service names more than one PAM service
// (or a special form) rather than one service by name.
func (s Service) IsCategory() bool { return s.kind != serviceName }

// Matches reports whether a rule for s applies to the login.
func (s Service) Matches(l Login) bool {
	switch s.kind {
	case serviceAll:
		return true
	case serviceSSH:
		return l.IsSSHD()
	case serviceXDM:
		return IsDisplayManager(l.Service)
	case serviceTTY:
		return strings.EqualFold(l.Service, "login")
	case serviceSSHD:
		return l.IsSSHD() && l.Auth != AuthKey
	case serviceSSHDKey:
		return l.IsSSHD() && l.Auth == AuthKey
	}
	return strings.EqualFold(s.Name, l.Service)
}

var displayManagers = map[string]bool{
	"gdm": true, "sddm": true, "lightdm": true, "xdm": true, "kdm": true,
	"slim": true, "lxdm": true,
}

// IsDisplayManager reports whether a PAM service belongs to a graphical
// login manager: gdm and its gdm-* services, sddm, lightdm, xdm, kdm, slim,
// lxdm and their -autologin forms.
func IsDisplayManager(service string) bool {
	s := strings.ToLower(service)
	if strings.HasPrefix(s, "gdm-") {
		return true
	}
	return displayManagers[strings.TrimSuffix(s, "-autologin")]
}

// wellKnownServices are PAM services that exist on common distributions.
// check-my-config accepts rules for them even where the package is not
// installed, so one config can serve a whole fleet.
var wellKnownServices = map[string]bool{
	"sshd": true, "login": true, "su": true, "su-l": true, "sudo": true, "sudo-i": true,
	"runuser": true, "runuser-l": true, "cron": true, "crond": true, "atd": true,
	"systemd-user": true, "polkit-1": true, "passwd": true, "chsh": true, "chfn": true,
	"other": true, "remote": true, "cockpit": true, "xrdp-sesman": true, "vsftpd": true,
	"screen": true, "kde": true, "xscreensaver": true, "gnome-screensaver": true,
	"kscreensaver": true, "lightdm-greeter": true, "sddm-greeter": true,
	"systemd-run0": true, "doas": true,
}

// IsWellKnownService reports whether a PAM service name is common enough
// that a rule for it is not a typo, even on a machine without it.
func IsWellKnownService(service string) bool {
	s := strings.ToLower(service)
	return wellKnownServices[s] || IsDisplayManager(s)
}
