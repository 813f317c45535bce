// Package rules is the pam-accesscontrol rules language: it reads the
// iptables-like config files into a Config and decides logins against it.
//
// The package does no I/O beyond reading config files: group membership,
// live sessions, desktop approvals and plugin answers come in through the
// interfaces in deps.go, so the decision logic is tested with fakes and the
// PAM helper, the CLI and the tests share one implementation.
package rules

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Pos is where something was written: a file and a 1-based line.
// A zero Pos means "built in".
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return "built-in"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// IsZero reports whether p names no place in a file.
func (p Pos) IsZero() bool { return p.File == "" }

// Verdict is what a decision says. The zero value is Close, so a Verdict
// that was never set denies.
type Verdict int

const (
	Close Verdict = iota
	Open
	Ask
	// Pin and PinGPG: the login is OPEN once the user types the one-time
	// PIN mailed to them (encrypted to their OpenPGP key for PinGPG).
	Pin
	PinGPG
	// Token: a TOKEN rule names the login: it goes on only with a valid
	// single sign-on token as the password (the PAM helper checks it with
	// the provider), then as Decision.Then says.
	Token
)

func (v Verdict) String() string {
	switch v {
	case Open:
		return "OPEN"
	case Ask:
		return "ASK"
	case Pin:
		return "PIN"
	case PinGPG:
		return "PINGPG"
	case Token:
		return "TOKEN"
	default:
		return "CLOSE"
	}
}

// Settings are the KEY:VALUE lines of the config.
type Settings struct {
	Default     Verdict // Open or Close
	DefaultPos  Pos     // the DEFAULT line that won; zero when built in
	Debug       bool
	AskTimeout  time.Duration
	AskFallback Verdict // Open or Close
	// AskRemember (ASK_REMEMBER:hours) lets the desktop owner allow an SSH
	// login's user and host for that long; 0, the default, offers no such
	// answer
	AskRemember time.Duration
	MailServer  string // MAILSERVER: the SMTP relay, host[:port]
	MailFrom    string // MAIL_FROM: the sender of mails; "" for the original's pam-accesscontrol@localhost
	// MAIL_TLS:STARTTLS: the relay must encrypt, with a certificate that
	// chains to MAIL_CA (the system's CAs when ""); off: plain SMTP, as the
	// original spoke
	MailStartTLS bool
	MailCA       string
	AuditLog     string // AUDIT_LOG: a JSON-lines file of audit events; "" for none
	Webhook      string // WEBHOOK: an http(s) URL that audit events are POSTed to
	WebhookKey   string // WEBHOOK_SECRET: the file holding the HMAC key
	// SYSLOG_SERVER: a central syslog server, udp://, tcp:// or tls://
	// host:port, that audit events go to as RFC 5424 lines; "" for none
	SyslogServer  string
	SyslogCA      string        // SYSLOG_CA: the CA bundle for tls://; "" for the system's
	SyslogCert    string        // SYSLOG_CERT: this host's certificate for tls://; "" for none
	SyslogKey     string        // SYSLOG_KEY: its private key
	SyslogTimeout time.Duration // SYSLOG_TIMEOUT: the bound on each connect and send
	// TrustHostNames (HOST_NAMES:TRUST): an RHOST that is not an address
	// is matched by the name entries of every rule, as before this setting
	// existed. Off (HOST_NAMES:DISTRUST, the default): such an RHOST opens
	// nothing by name, and CLOSE rules by address or network apply to it
	// (docs/rules.md, "Remote host names").
	TrustHostNames bool
	HostNamesPos   Pos // the HOST_NAMES line that won; zero when built in

	// ServerGroup (SERVER_GROUP:name) is the group of servers this one
	// belongs to, sent with every OPA input so that one central policy
	// decides per group (LemonLDAP::NG's server groups); DefaultServerGroup
	// when not set.
	ServerGroup    string
	ServerGroupPos Pos // the SERVER_GROUP line that won; zero when built in

	OPA  OPASettings  // the OPA_* settings, for OPA rules
	OIDC OIDCSettings // the OIDC_* settings, for TOKEN rules
}

// OPASettings say how OPA rules reach Open Policy Agent (docs/rules.md, "Fleet
// policy"). Data paths are slash-separated, without /v1/data/: the
// pam_authz module line's authz_endpoint=/v1/data/sshd/authz is
// OPA_AUTHZ:sshd/authz (either form is accepted).
type OPASettings struct {
	// URL is OPA's address: http://host:port, https://host:port or
	// unix:/path/to/socket; "" when unset (an OPA rule then fails closed).
	URL     string
	URLPos  Pos
	CA      string // OPA_CA: the CA bundle for https; "" for the system's
	Authz   string // OPA_AUTHZ: the authz rule's data path (required)
	Display string // OPA_DISPLAY: the display cycle's package; "" for none
	Pull    string // OPA_PULL: the pull cycle's package; "" for none
	// Timeout bounds each request to OPA (OPA_TIMEOUT, 1–60 s, default 5).
	Timeout time.Duration
	// Fallback decides when OPA gives no usable answer (OPA_FALLBACK).
	Fallback Verdict
	// Cache (OPA_CACHE:SECONDS) lets the last OPEN from OPA for the same
	// user, service, remote host and auth kind stand that long while OPA
	// gives no usable answer; 0 (the default, OPA_CACHE:OFF) never.
	Cache time.Duration
	// PullFiles (OPA_PULL_FILES) are the absolute paths a pull may read:
	// a file, or a directory (ending in /) whose files it may read. None
	// by default: a policy server chooses what to pull, and must not be
	// able to read whatever root can.
	PullFiles    []string
	PullFilesPos Pos // the OPA_PULL_FILES line that won
}

// DefaultSettings are the values a config starts with (docs/rules.md).
func DefaultSettings() Settings {
	return Settings{
		Default:       Close,
		AskTimeout:    30 * time.Second,
		AskFallback:   Close,
		SyslogTimeout: 5 * time.Second,
		ServerGroup:   DefaultServerGroup,
		OPA:           OPASettings{Timeout: 5 * time.Second, Fallback: Close},
		OIDC:          OIDCSettings{Timeout: 5 * time.Second, Cache: 60 * time.Second, Fallback: OIDCFallbackClose},
	}
}

// Option is the second field of a rule.
type Option int

const (
	OptOpen Option = iota + 1
	OptClose
	OptAsk
	OptNumber
	OptPin
	OptPinGPG
	OptPlugin
	// OptOPA: Open Policy Agent decides (its answer joins the decision
	// order as OPEN, CLOSE, ASK or PIN would).
	OptOPA
	// OptToken: the login needs a valid single sign-on token as its
	// password (docs/rules.md, "Single sign-on tokens").
	OptToken
)

var optionNames = map[Option]string{
	OptOpen: "OPEN", OptClose: "CLOSE", OptAsk: "ASK", OptNumber: "NUMBER",
	OptPin: "PIN", OptPinGPG: "PINGPG", OptPlugin: "PLUGIN", OptOPA: "OPA",
	OptToken: "TOKEN",
}

func (o Option) String() string { return optionNames[o] }

// TargetKind is the third field of a rule.
type TargetKind int

const (
	TargetUser TargetKind = iota + 1
	TargetGroup
	TargetHost
)

func (t TargetKind) String() string {
	switch t {
	case TargetUser:
		return "USER"
	case TargetGroup:
		return "GROUP"
	case TargetHost:
		return "HOST"
	}
	return "?"
}

// AllGroups is the GROUP entry that means every user. It is case-sensitive,
// as in the original.
const AllGroups = "ALL"

// Limit is one `group:N` entry of a NUMBER rule: at most Max distinct users
// of Group may be logged in.
type Limit struct {
	Group string
	Max   int
}

// Rule is one valid four-field line.
type Rule struct {
	Pos     Pos
	Text    string // the line as written, comments and outer blanks removed
	Service Service
	Option  Option
	Plugin  string // lower-case plugin name when Option is OptPlugin
	Target  TargetKind
	Names   []string      // users or groups, for TargetUser and TargetGroup
	Hosts   []HostPattern // for TargetHost
	Limits  []Limit       // for OptNumber
}

// Severity says what a Problem does to the config.
type Severity int

const (
	// Warning: the line is used, but probably not as its author meant.
	Warning Severity = iota + 1
	// Ignored: the line (or one list entry) is skipped, as the original did.
	Ignored
	// Fatal: the whole config is refused and every login is denied.
	Fatal
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Ignored:
		return "ignored"
	case Fatal:
		return "refused"
	}
	return "?"
}

// Problem is something check-my-config reports, with where and why.
type Problem struct {
	Pos      Pos
	Severity Severity
	Message  string
	// Locks is set on an Ignored line that could have kept logins out (a
	// broken CLOSE, ASK, NUMBER, PIN, PINGPG or OPA rule, or a broken
	// setting after a permissive one): ignoring it could let in whom it
	// was written to refuse, so the logins it names are refused until it
	// is fixed (broken.go). nil for a line that could only have let
	// logins in, or whose meaning cannot be told.
	Locks *Lockout
}

// Label is what the problem does, as check-my-config and the log show
// it: "error" for a line that refuses logins, else its severity.
func (p Problem) Label() string {
	if p.Locks != nil {
		return "error"
	}
	return p.Severity.String()
}

// Text is the message with, for a line that refuses logins, which ones.
func (p Problem) Text() string {
	if p.Locks != nil {
		return p.Message + "; " + p.Locks.Consequence()
	}
	return p.Message
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s", p.Pos, p.Label(), p.Text())
}

// Config is everything read from the main file and its drop-ins, in order.
type Config struct {
	Settings  Settings
	Rules     []*Rule
	Problems  []Problem
	Files     []string // the files read, in order
	PluginDir string   // where plugin names were looked up; "" when none
	// Plugins maps each plugin name used by a rule to its file.
	Plugins map[string]string
	// Fingerprint is a hash of every file Load read (names and content,
	// plugins included): a decision kept between PAM calls names the config
	// it was made under, and serves no call under another. Empty for a
	// config that Load did not read.
	Fingerprint string

	// reported is set once the config's problems were logged (FirstReport).
	reported atomic.Bool
}

// FirstReport reports true to its first caller only, for each Config
// Load or Parse returned: a process logs a config's problems once per
// load. A daemon serves many logins with one cached Config, and logs them
// once; a helper run for one call loads the config, and logs them, each
// call.
func (c *Config) FirstReport() bool { return !c.reported.Swap(true) }

// Refuses returns the first broken line that refuses this login (Locks),
// if any.
func (c *Config) Refuses(l Login) (Problem, bool) {
	for _, p := range c.Problems {
		if p.Locks != nil && p.Locks.Matches(l) {
			return p, true
		}
	}
	return Problem{}, false
}

// Fatal returns the first problem that refuses the whole config, if any.
func (c *Config) Fatal() (Problem, bool) {
	for _, p := range c.Problems {
		if p.Severity == Fatal {
			return p, true
		}
	}
	return Problem{}, false
}

func (c *Config) problem(pos Pos, sev Severity, format string, args ...any) {
	c.Problems = append(c.Problems, Problem{Pos: pos, Severity: sev, Message: fmt.Sprintf(format, args...)})
}
