package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A line the parser cannot use is ignored, as the original did. Ignoring a
// line that could only have let logins in is safe; ignoring one that could
// have kept logins out is not: under DEFAULT:OPEN a mistyped
// "SSHD CLOSE USER alice bob" would let alice in. So a broken line that
// could have kept logins out refuses the logins it names until it is
// fixed, as an unsafe file refuses every login (docs/rules.md, "Lines"):
//
//   - a rule-shaped line whose OPTION restricts (CLOSE, ASK, NUMBER, PIN,
//     PINGPG, OPA, a plugin whose file is there, or a word one typing slip
//     from one of these keywords, like CLSOE) refuses the logins of its
//     SERVICE, or every login when that field cannot be read or is
//     missing (CLOSE USER alice);
//   - a list entry of such a rule that can never match (a bad NUMBER
//     limit or HOST entry, a name with ':') does the same, though the rest
//     of the rule is kept;
//   - a broken setting that comes after a permissive value of the same key
//     (DEFAULT:OPEN, then DEFAULT:CLSOE) refuses every login, unless a
//     valid line of that key follows it: it may have meant to restrict what
//     stands, and a setting applies to every login.
//
// A line whose OPTION is OPEN could only have let logins in, and one whose
// OPTION is an unknown word (no keyword, no plugin file) has no meaning to
// weigh: both stay ignored, as in the original.

// Lockout says which logins a broken line refuses.
type Lockout struct {
	// All: every login. For a line whose SERVICE field is unreadable or
	// missing, and for a setting, which applies to every login.
	All bool
	// Service is the line's SERVICE field otherwise: the logins a rule of
	// it would have decided.
	Service Service
	// Why says how the line could have kept logins out.
	Why string
}

// Matches reports whether the lockout refuses the login.
func (l *Lockout) Matches(login Login) bool { return l.All || l.Service.Matches(login) }

// Scope names the logins refused, for logs and check-my-config.
func (l *Lockout) Scope() string {
	if l.All {
		return "every login"
	}
	switch l.Service.kind {
	case serviceAll:
		return "every login"
	case serviceSSH:
		return "every SSH login (sshd)"
	case serviceSSHD:
		return "every SSHD login (sshd with a password or keyboard-interactive)"
	case serviceSSHDKey:
		return "every SSHD-KEY login (sshd by key)"
	case serviceXDM:
		return "every XDM login (the display managers)"
	case serviceTTY:
		return "every TTY login (login)"
	}
	return "every login of service " + l.Service.Name
}

// Consequence says why and which logins are refused.
func (l *Lockout) Consequence() string {
	return l.Why + ": " + l.Scope() + " is refused until this line is fixed"
}

// restrictingOptions are the OPTION keywords whose rules can keep a login
// out, in the order docs/rules.md lists them.
var restrictingOptions = []string{"CLOSE", "ASK", "NUMBER", "PIN", "PINGPG", "OPA", "TOKEN"}

// restricting reports whether a rule's OPTION word could keep logins out,
// and says how.
func (p *parser) restricting(word string) (string, bool) {
	upper := strings.ToUpper(word)
	if opt, ok := optionKinds[upper]; ok {
		return fmt.Sprintf("a broken %s rule could have kept logins out", opt), opt != OptOpen
	}
	if name := strings.ToLower(word); p.pluginExists(name) {
		return fmt.Sprintf("plugin %s could have answered CLOSE", name), true
	}
	for _, k := range restrictingOptions {
		if oneSlip(upper, k) {
			return fmt.Sprintf("%q is one typing slip from %s, which could have kept logins out", word, k), true
		}
	}
	return "", false
}

// pluginExists reports whether plugins/<name>.star is there at all (a file
// that is not a regular one is still meant as the plugin).
func (p *parser) pluginExists(name string) bool {
	if !validPluginName(name) || p.opts.PluginDir == "" {
		return false
	}
	_, err := os.Lstat(filepath.Join(p.opts.PluginDir, name+".star"))
	return err == nil
}

// ruleLockout says which logins a broken rule-shaped line refuses; nil
// when it could only have let logins in, or its OPTION is unknown.
func (p *parser) ruleLockout(fields []string) *Lockout {
	if len(fields) >= 2 {
		if why, ok := p.restricting(fields[1]); ok {
			return p.serviceLockout(fields[0], why)
		}
		if strings.EqualFold(fields[1], "OPEN") {
			return nil
		}
	}
	// no OPTION second: a line that starts with one lacks its SERVICE
	if opt, ok := optionKinds[strings.ToUpper(fields[0])]; ok && opt != OptOpen {
		return &Lockout{All: true, Why: fmt.Sprintf("a broken %s rule without its SERVICE could have kept logins of any service out", opt)}
	}
	return nil
}

// serviceLockout refuses the logins of a SERVICE field, or every login
// when it cannot be read.
func (p *parser) serviceLockout(service, why string) *Lockout {
	if !validServiceName(service) {
		return &Lockout{All: true, Why: why + ", and its SERVICE " + fmt.Sprintf("%q", service) + " cannot be read"}
	}
	return &Lockout{Service: parseService(service), Why: why}
}

// oneSlip reports whether a and b differ by one typing slip: a letter
// wrong, missing or extra, or two neighbours swapped.
func oneSlip(a, b string) bool {
	switch {
	case a == b:
		return false
	case len(a) == len(b):
		i := 0
		for a[i] == b[i] {
			i++
		}
		return a[i+1:] == b[i+1:] ||
			i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case len(a) == len(b)+1:
		return dropsOne(a, b)
	case len(b) == len(a)+1:
		return dropsOne(b, a)
	}
	return false
}

// dropsOne reports whether short is long without one of its letters.
func dropsOne(long, short string) bool {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	return long[i+1:] == short[i:]
}

// restrictingSettings are the settings whose broken line, after a
// permissive value, may have meant to restrict it. permissive says what
// stands, and whether it is permissive; opens is the value that could only
// have let logins in (a broken line that plainly says it, DEFAULT: OPEN,
// stays ignored), "" when no value is sure to.
var restrictingSettings = []struct {
	key        string
	opens      string
	permissive func(Settings) (string, bool)
}{
	{"DEFAULT", "OPEN", func(s Settings) (string, bool) {
		return fmt.Sprintf("DEFAULT:OPEN (%s)", s.DefaultPos), s.Default == Open
	}},
	{"ASK_FALLBACK", "OPEN", func(s Settings) (string, bool) { return "ASK_FALLBACK:OPEN", s.AskFallback == Open }},
	{"ASK_REMEMBER", "", func(s Settings) (string, bool) {
		return fmt.Sprintf("ASK_REMEMBER:%d", int(s.AskRemember.Hours())), s.AskRemember > 0
	}},
	{"HOST_NAMES", "TRUST", func(s Settings) (string, bool) {
		return fmt.Sprintf("HOST_NAMES:TRUST (%s)", s.HostNamesPos), s.TrustHostNames
	}},
	{"OPA_FALLBACK", "OPEN", func(s Settings) (string, bool) { return "OPA_FALLBACK:OPEN", s.OPA.Fallback == Open }},
	{"OPA_CACHE", "", func(s Settings) (string, bool) {
		return fmt.Sprintf("OPA_CACHE:%d", int(s.OPA.Cache.Seconds())), s.OPA.Cache > 0
	}},
	// with OPA set up, a broken SERVER_GROUP line would have the policy
	// decide for another group (the default one, or an earlier line's),
	// which may let in whom this server's group keeps out
	{"SERVER_GROUP", "", func(s Settings) (string, bool) {
		return fmt.Sprintf("SERVER_GROUP:%s, which OPA's policy decides by,", s.ServerGroup), s.OPA.URL != ""
	}},
	{"OIDC_FALLBACK", "CACHE", func(s Settings) (string, bool) {
		return "OIDC_FALLBACK:CACHE", s.OIDC.Fallback == OIDCFallbackCache
	}},
}

// onlyOpens reports whether value, meant for restricting setting name,
// could only have let logins in.
func onlyOpens(name, value string) bool {
	for _, rs := range restrictingSettings {
		if rs.key == name {
			return rs.opens != "" && strings.EqualFold(value, rs.opens)
		}
	}
	return false
}

// restrictingSetting is the restricting setting a KEY names: itself
// (exact), or the one it is a typing slip of (DEFALUT); "" for none.
func restrictingSetting(key string) (name string, exact bool) {
	for _, rs := range restrictingSettings {
		if key == rs.key {
			return rs.key, true
		}
	}
	if isSettingKey(key) {
		return "", false
	}
	for _, rs := range restrictingSettings {
		if oneSlip(key, rs.key) {
			return rs.key, false
		}
	}
	return "", false
}

// settingKey is the setting a line that is no valid setting was meant to
// be, and the value it was meant to have: a known KEY that starts it (as
// KEY: or, when the line is not a four-field rule, as the bare word), or
// the restricting KEY that a KEY: is a typing slip of; "" when the line
// reads as a rule.
func settingKey(fields []string) (key, value string) {
	word, rest, colon := strings.Cut(fields[0], ":")
	key = strings.ToUpper(word)
	value = strings.TrimSpace(rest + " " + strings.Join(fields[1:], " "))
	if isSettingKey(key) && (colon || len(fields) != 4) {
		return key, value
	}
	if name, _ := restrictingSetting(key); colon && name != "" {
		return name, value
	}
	return "", ""
}

// brokenSetting reports a line meant as setting key = value that cannot
// be read.
func (p *parser) brokenSetting(pos Pos, key, value, format string, args ...any) {
	p.cfg.problem(pos, Ignored, format, args...)
	p.brokenSettingAt(len(p.cfg.Problems)-1, key, value)
}

// brokenSettingAt notes that problem i is a broken line meant as setting
// key = value: when key is a restricting setting (or a typing slip of
// one), finish decides whether it refuses logins.
func (p *parser) brokenSettingAt(i int, key, value string) {
	name, _ := restrictingSetting(key)
	if name == "" || onlyOpens(name, value) {
		return
	}
	if p.pending == nil {
		p.pending = map[string][]int{}
	}
	p.pending[name] = append(p.pending[name], i)
}

// brokenRule reports a rule-shaped line that cannot be read, refusing the
// logins it could have kept out.
func (p *parser) brokenRule(pos Pos, fields []string, format string, args ...any) {
	p.cfg.problem(pos, Ignored, format, args...)
	p.cfg.Problems[len(p.cfg.Problems)-1].Locks = p.ruleLockout(fields)
}

// lockRule marks the problems a rule line added from index from on, the
// line's or its entries', as refusing what the rule could have kept out.
func (p *parser) lockRule(from int, fields []string) {
	var l *Lockout
	for i := from; i < len(p.cfg.Problems); i++ {
		if p.cfg.Problems[i].Severity != Ignored {
			continue
		}
		if l == nil {
			if l = p.ruleLockout(fields); l == nil {
				return
			}
		}
		p.cfg.Problems[i].Locks = l
	}
}

// settled notes a valid line of setting key: the broken lines before it
// no longer matter, since the last valid line wins.
func (p *parser) settled(key string) {
	delete(p.pending, key)
}

// finish runs once every file is read: a broken line of a restricting
// setting with no valid line of it after it, while a permissive value
// stands, refuses every login.
func (p *parser) finish() {
	for _, rs := range restrictingSettings {
		lines := p.pending[rs.key]
		if len(lines) == 0 {
			continue
		}
		stands, permissive := rs.permissive(p.cfg.Settings)
		if !permissive {
			continue
		}
		l := &Lockout{All: true, Why: fmt.Sprintf("it comes after %s and may have meant to restrict it", stands)}
		for _, i := range lines {
			p.cfg.Problems[i].Locks = l
		}
	}
	p.pending = nil
}
