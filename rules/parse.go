package rules

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/syslogtarget"
)

// ParseOptions say where the parser looks things up.
type ParseOptions struct {
	// PluginDir holds plugins/<name>.star. Empty: no plugins exist, and an
	// OPTION that is not a keyword makes its line invalid.
	PluginDir string
}

// Parse reads one file's text into a new Config. It never fails: every line
// it cannot use becomes a Problem, and the line is ignored, as the original
// did; one that could have kept logins out also refuses the logins it
// names (Problem.Locks, broken.go).
func Parse(file string, src []byte, opts ParseOptions) *Config {
	p := newParser(opts)
	p.parseFile(file, src)
	p.finish()
	return p.cfg
}

type parser struct {
	cfg  *Config
	opts ParseOptions
	// pending holds, by restricting setting, the problems of its broken
	// lines since its last valid one (broken.go)
	pending map[string][]int
}

func newParser(opts ParseOptions) *parser {
	return &parser{
		cfg:  &Config{Settings: DefaultSettings(), PluginDir: opts.PluginDir, Plugins: map[string]string{}},
		opts: opts,
	}
}

// parseFile appends a file's settings and rules to the config, as if its
// lines followed those already read.
func (p *parser) parseFile(file string, src []byte) {
	p.cfg.Files = append(p.cfg.Files, file)
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	for n := 1; len(src) > 0; n++ {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		p.parseLine(Pos{File: file, Line: n}, string(bytes.TrimSuffix(line, []byte("\r"))))
	}
}

func (p *parser) parseLine(pos Pos, line string) {
	line = stripComment(line)
	if line == "" {
		return
	}
	fields := strings.FieldsFunc(line, isBlank)
	if !utf8.ValidString(line) {
		p.broken(pos, fields, "line is not valid UTF-8")
		return
	}
	if i := strings.IndexFunc(line, isControl); i >= 0 {
		p.broken(pos, fields, "control character %q in line", line[i])
		return
	}
	switch {
	case len(fields) == 1 && strings.Contains(fields[0], ":"):
		p.parseSetting(pos, fields[0])
	case len(fields) == 4:
		p.parseRule(pos, fields)
	case keyOf(fields) != "":
		key, value := settingKey(fields)
		p.brokenSetting(pos, key, value, "a setting is one word KEY:VALUE with no blanks, like DEFAULT:CLOSE")
	case len(fields) == 1:
		p.brokenRule(pos, fields, "%q is neither a setting (KEY:VALUE) nor a rule (SERVICE OPTION TARGET LIST)", fields[0])
	case len(fields) > 4:
		p.brokenRule(pos, fields, "a rule has exactly 4 fields (SERVICE OPTION TARGET LIST), this line has %d; "+
			"list entries are separated by commas without blanks", len(fields))
	default:
		p.brokenRule(pos, fields, "a rule has exactly 4 fields (SERVICE OPTION TARGET LIST), this line has %d", len(fields))
	}
}

// broken reports a line that cannot be read at all, as the setting or the
// rule it looks like.
func (p *parser) broken(pos Pos, fields []string, format string, args ...any) {
	if key, value := settingKey(fields); key != "" || len(fields) == 1 && strings.Contains(fields[0], ":") {
		p.brokenSetting(pos, key, value, format, args...)
		return
	}
	p.brokenRule(pos, fields, format, args...)
}

// keyOf is the setting a line that is no valid setting was meant to be.
func keyOf(fields []string) string {
	key, _ := settingKey(fields)
	return key
}

// stripComment removes a whole-line comment, a trailing comment (a # after
// a blank) and the blanks around what is left.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || isBlank(rune(line[i-1]))) {
			line = line[:i]
			break
		}
	}
	return strings.TrimFunc(line, isBlank)
}

func isBlank(r rune) bool   { return r == ' ' || r == '\t' }
func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// maxAskRememberHours bounds ASK_REMEMBER: a week.
const maxAskRememberHours = 168

// settingKeys are the known KEY:VALUE keys, in the order the
// documentation lists them.
var settingKeys = []string{
	"DEFAULT", "DEBUG", "ASK_TIMEOUT", "ASK_FALLBACK", "ASK_REMEMBER", "HOST_NAMES", "MAILSERVER", "MAIL_FROM", "MAIL_TLS", "MAIL_CA",
	"AUDIT_LOG", "WEBHOOK", "WEBHOOK_SECRET", "SYSLOG_SERVER", "SYSLOG_CA", "SYSLOG_CERT", "SYSLOG_KEY",
	"SYSLOG_TIMEOUT", "OPA_URL", "OPA_CA", "OPA_AUTHZ", "OPA_DISPLAY", "OPA_PULL", "OPA_TIMEOUT", "OPA_FALLBACK",
	"OPA_CACHE", "OPA_PULL_FILES", "SERVER_GROUP", "OIDC_ISSUER", "OIDC_INTROSPECTION", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
	"OIDC_SCOPE", "OIDC_CA", "OIDC_TIMEOUT", "OIDC_USER_CLAIM", "OIDC_CACHE", "OIDC_FALLBACK",
}

func isSettingKey(s string) bool { return slices.Contains(settingKeys, strings.ToUpper(s)) }

func (p *parser) parseSetting(pos Pos, field string) {
	key, value, _ := strings.Cut(field, ":")
	key = strings.ToUpper(key)
	n := len(p.cfg.Problems)
	p.setSetting(pos, key, value)
	switch name, exact := restrictingSetting(key); {
	case len(p.cfg.Problems) > n && p.cfg.Problems[n].Severity == Ignored:
		p.brokenSettingAt(n, key, value)
	case exact:
		p.settled(name)
	}
}

// setSetting sets one KEY:VALUE, or reports why it cannot.
func (p *parser) setSetting(pos Pos, key, value string) {
	upper := strings.ToUpper(value)
	s := &p.cfg.Settings
	switch key {
	case "DEFAULT":
		if v, ok := p.openClose(pos, key, upper, value); ok {
			s.Default, s.DefaultPos = v, pos
		}
	case "DEBUG":
		switch upper {
		case "TRUE":
			s.Debug = true
		case "FALSE":
			s.Debug = false
		default:
			p.cfg.problem(pos, Ignored, "DEBUG must be TRUE or FALSE, not %q", value)
		}
	case "ASK_TIMEOUT":
		if d, ok := p.seconds(pos, key, value, 90); ok {
			s.AskTimeout = d
		}
	case "ASK_FALLBACK":
		if v, ok := p.openClose(pos, key, upper, value); ok {
			s.AskFallback = v
		}
	case "ASK_REMEMBER":
		if upper == "OFF" {
			s.AskRemember = 0
			return
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > maxAskRememberHours {
			p.cfg.problem(pos, Ignored, "ASK_REMEMBER must be OFF or a whole number of hours from 1 to %d, not %q", maxAskRememberHours, value)
			return
		}
		s.AskRemember = time.Duration(n) * time.Hour
	case "HOST_NAMES":
		switch upper {
		case "TRUST":
			s.TrustHostNames = true
		case "DISTRUST":
			s.TrustHostNames = false
		default:
			p.cfg.problem(pos, Ignored, "HOST_NAMES must be TRUST or DISTRUST, not %q", value)
			return
		}
		s.HostNamesPos = pos
	case "MAILSERVER":
		if err := checkMailServer(value); err != nil {
			p.cfg.problem(pos, Ignored, "MAILSERVER: %v", err)
			return
		}
		s.MailServer = value
	case "AUDIT_LOG":
		if path, ok := p.file(pos, key, value, "the JSON-lines file"); ok {
			s.AuditLog = path
		}
	case "WEBHOOK":
		if !strings.HasPrefix(value, "http://") && !strings.HasPrefix(value, "https://") {
			p.cfg.problem(pos, Ignored, "WEBHOOK must be an http:// or https:// URL, not %q", value)
			return
		}
		s.Webhook = value
	case "WEBHOOK_SECRET":
		if path, ok := p.file(pos, key, value, "the file holding the key"); ok {
			s.WebhookKey = path
		}
	case "MAIL_FROM":
		if _, err := mail.ParseAddress(value); err != nil || strings.ContainsAny(value, "<> ") {
			p.cfg.problem(pos, Ignored, "MAIL_FROM must be a plain mail address like pam-accesscontrol@host.example.org, not %q", value)
			return
		}
		s.MailFrom = value
	case "MAIL_TLS":
		switch upper {
		case "STARTTLS":
			s.MailStartTLS = true
		case "OFF":
			s.MailStartTLS = false
		default:
			p.cfg.problem(pos, Ignored, "MAIL_TLS must be STARTTLS or OFF, not %q", value)
		}
	case "MAIL_CA":
		if path, ok := p.file(pos, key, value, "a PEM file of CA certificates"); ok {
			s.MailCA = path
		}
	case "SYSLOG_SERVER":
		t, err := syslogtarget.Parse(value)
		if err != nil {
			p.cfg.problem(pos, Ignored, "SYSLOG_SERVER: %v", err)
			return
		}
		s.SyslogServer = t.String()
	case "SYSLOG_CA":
		if path, ok := p.file(pos, key, value, "a PEM file of CA certificates"); ok {
			s.SyslogCA = path
		}
	case "SYSLOG_CERT", "SYSLOG_KEY":
		path, ok := p.file(pos, key, value, "a PEM file")
		switch {
		case !ok:
		case key == "SYSLOG_CERT":
			s.SyslogCert = path
		default:
			s.SyslogKey = path
		}
	case "SYSLOG_TIMEOUT":
		if d, ok := p.seconds(pos, key, value, 30); ok {
			s.SyslogTimeout = d
		}
	case "OPA_URL", "OPA_CA", "OPA_AUTHZ", "OPA_DISPLAY", "OPA_PULL", "OPA_TIMEOUT", "OPA_FALLBACK", "OPA_CACHE", "OPA_PULL_FILES":
		p.parseOPASetting(pos, key, value)
	case "SERVER_GROUP":
		if err := CheckServerGroup(value); err != nil {
			p.cfg.problem(pos, Ignored, "SERVER_GROUP: %v", err)
			return
		}
		s.ServerGroup, s.ServerGroupPos = value, pos
	case "OIDC_ISSUER", "OIDC_INTROSPECTION", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPE", "OIDC_CA",
		"OIDC_TIMEOUT", "OIDC_USER_CLAIM", "OIDC_CACHE", "OIDC_FALLBACK":
		p.parseOIDCSetting(pos, key, value)
	default:
		p.cfg.problem(pos, Ignored, "unknown setting %q (known: %s)", key, strings.Join(settingKeys, ", "))
	}
}

// parseOPASetting reads the OPA_* settings (docs/rules.md, "Fleet policy").
func (p *parser) parseOPASetting(pos Pos, key, value string) {
	o := &p.cfg.Settings.OPA
	upper := strings.ToUpper(value)
	switch key {
	case "OPA_URL":
		if err := CheckOPAURL(value); err != nil {
			p.cfg.problem(pos, Ignored, "OPA_URL: %v", err)
			return
		}
		o.URL, o.URLPos = value, pos
	case "OPA_CA":
		if path, ok := p.file(pos, key, value, "a PEM file of CA certificates"); ok {
			o.CA = path
		}
	case "OPA_AUTHZ", "OPA_DISPLAY", "OPA_PULL":
		path, err := OPADataPath(value)
		if err != nil {
			p.cfg.problem(pos, Ignored, "%s: %v", key, err)
			return
		}
		switch key {
		case "OPA_AUTHZ":
			o.Authz = path
		case "OPA_DISPLAY":
			o.Display = path
		default:
			o.Pull = path
		}
	case "OPA_TIMEOUT":
		if d, ok := p.seconds(pos, key, value, 60); ok {
			o.Timeout = d
		}
	case "OPA_FALLBACK":
		if v, ok := p.openClose(pos, key, upper, value); ok {
			o.Fallback = v
		}
	case "OPA_CACHE":
		if upper == "OFF" || value == "0" {
			o.Cache = 0
			return
		}
		if d, ok := p.seconds(pos, key, value, 7*24*3600); ok {
			o.Cache = d
		}
	case "OPA_PULL_FILES":
		if upper == "NONE" {
			o.PullFiles = nil
			return
		}
		var files []string
		for _, f := range splitList(value) {
			if !strings.HasPrefix(f, "/") || filepath.Clean(f) != strings.TrimSuffix(f, "/") && f != "/" {
				p.cfg.problem(pos, Ignored, "OPA_PULL_FILES entry %q: an absolute, clean path (a directory ends in /), like /etc/host_identity.json or /etc/pam-opa/", f)
				return
			}
			if f == "/" {
				p.cfg.problem(pos, Ignored, "OPA_PULL_FILES entry \"/\" would let the policy server read every file root can: name the files or a directory of its own")
				return
			}
			files = append(files, f)
		}
		if len(files) == 0 {
			p.cfg.problem(pos, Ignored, "OPA_PULL_FILES: empty list; write NONE for none")
			return
		}
		o.PullFiles, o.PullFilesPos = files, pos
	}
}

// CheckOPAURL reports why s is not an OPA_URL: http:// or https://
// host[:port] with nothing after the authority but an optional "/", or
// unix: and an absolute socket path.
func CheckOPAURL(s string) error {
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		path = strings.TrimPrefix(path, "//")
		if !strings.HasPrefix(path, "/") || filepath.Clean(path) != path {
			return fmt.Errorf("a unix: URL names the socket by absolute, clean path, like unix:/run/opa/opa.sock, not %q", s)
		}
		return nil
	}
	rest, ok := strings.CutPrefix(s, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(s, "https://")
	}
	if !ok {
		return fmt.Errorf("want http://host:port, https://host:port or unix:/path/to/socket, not %q", s)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return fmt.Errorf("want only scheme, host and port (the data paths are OPA_AUTHZ, OPA_DISPLAY, OPA_PULL), not %q", s)
	}
	return nil
}

// OPADataPath turns a setting's data path into the slash-separated form
// ("sshd/authz"): "sshd/authz", "/v1/data/sshd/authz" (pam_authz's
// endpoint form) and "sshd.authz" (Rego's package form) all name it.
func OPADataPath(s string) (string, error) {
	p := strings.TrimPrefix(s, "/v1/data/")
	p = strings.Trim(p, "/")
	if !strings.Contains(p, "/") {
		p = strings.ReplaceAll(p, ".", "/")
	}
	if p == "" || len(p) > 256 {
		return "", fmt.Errorf("want the data path of a rule or package, like sshd/authz or /v1/data/sshd/authz, not %q", s)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || strings.IndexFunc(seg, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
		}) >= 0 {
			return "", fmt.Errorf("data path %q: segments of letters, digits, '_' and '-', separated by '/'", s)
		}
	}
	return p, nil
}

// file reads a setting that names a file, which must be an absolute path.
func (p *parser) file(pos Pos, key, value, what string) (string, bool) {
	if !strings.HasPrefix(value, "/") || strings.HasSuffix(value, "/") {
		p.cfg.problem(pos, Ignored, "%s names %s, by absolute path, not %q", key, what, value)
		return "", false
	}
	return value, true
}

// seconds reads a setting's whole number of seconds from 1 to max.
func (p *parser) seconds(pos Pos, key, value string, max int) (time.Duration, bool) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > max {
		p.cfg.problem(pos, Ignored, "%s must be a whole number of seconds from 1 to %d, not %q", key, max, value)
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// openClose is an OPEN or CLOSE setting's value; anything else is reported
// and ignored.
func (p *parser) openClose(pos Pos, key, upper, value string) (Verdict, bool) {
	v, ok := parseOpenClose(upper)
	if !ok {
		p.cfg.problem(pos, Ignored, "%s must be OPEN or CLOSE, not %q", key, value)
	}
	return v, ok
}

func parseOpenClose(s string) (Verdict, bool) {
	switch s {
	case "OPEN":
		return Open, true
	case "CLOSE":
		return Close, true
	}
	return Close, false
}

func checkMailServer(v string) error {
	host, port := v, ""
	if i := strings.LastIndexByte(v, ':'); i >= 0 && !strings.HasSuffix(v, "]") {
		host, port = v[:i], v[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return fmt.Errorf("no host given; write MAILSERVER:host or MAILSERVER:host:port")
	}
	return nil
}

var targetKinds = map[string]TargetKind{
	"USER": TargetUser, "USERS": TargetUser,
	"GROUP": TargetGroup, "GROUPS": TargetGroup,
	"HOST": TargetHost, "HOSTS": TargetHost,
}

var optionKinds = map[string]Option{
	"OPEN": OptOpen, "CLOSE": OptClose, "ASK": OptAsk, "NUMBER": OptNumber,
	"PIN": OptPin, "PINGPG": OptPinGPG, "OPA": OptOPA, "TOKEN": OptToken,
}

func (p *parser) parseRule(pos Pos, f []string) {
	defer p.lockRule(len(p.cfg.Problems), f)
	r := &Rule{Pos: pos, Text: strings.Join(f, " ")}
	if !validServiceName(f[0]) {
		p.cfg.problem(pos, Ignored, "%q is not a PAM service name or one of ALL, SSH, SSHD-KEY, XDM, TTY", f[0])
		return
	}
	r.Service = parseService(f[0])

	opt, ok := optionKinds[strings.ToUpper(f[1])]
	if !ok {
		name := strings.ToLower(f[1])
		path, err := p.plugin(name)
		if err != nil {
			p.cfg.problem(pos, Ignored, "unknown option %q: expected OPEN, CLOSE, ASK, NUMBER, PIN, PINGPG, OPA, TOKEN or a plugin (%v)", f[1], err)
			return
		}
		opt, r.Plugin = OptPlugin, name
		p.cfg.Plugins[name] = path
	}
	r.Option = opt

	r.Target, ok = targetKinds[strings.ToUpper(f[2])]
	if !ok {
		p.cfg.problem(pos, Ignored, "unknown target %q: expected USER, GROUP or HOST", f[2])
		return
	}
	if opt == OptNumber && r.Target != TargetGroup {
		p.cfg.problem(pos, Ignored, "NUMBER limits groups: write %s NUMBER GROUP group:N", f[0])
		return
	}

	entries := splitList(f[3])
	switch {
	case opt == OptNumber:
		r.Limits = p.parseLimits(pos, entries)
		if len(r.Limits) == 0 {
			return // every entry was reported
		}
	case r.Target == TargetHost:
		r.Hosts = p.parseHosts(pos, entries)
		if len(r.Hosts) == 0 {
			return
		}
	default:
		if len(entries) == 0 {
			p.cfg.problem(pos, Ignored, "empty %s list", r.Target)
			return
		}
		r.Names = entries
		p.checkNames(pos, r)
	}
	p.cfg.Rules = append(p.cfg.Rules, r)
}

// splitList splits a comma-separated LIST, dropping empty entries as the
// original did ("bob,,alice," is bob and alice).
func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

func (p *parser) parseLimits(pos Pos, entries []string) []Limit {
	if len(entries) == 0 {
		p.cfg.problem(pos, Ignored, "empty NUMBER list: write group:N, like users:2")
		return nil
	}
	var limits []Limit
	for _, e := range entries {
		group, max, found := strings.Cut(e, ":")
		if !found || group == "" {
			p.cfg.problem(pos, Ignored, "NUMBER entry %q needs a limit: write group:N, like %s:2", e, e)
			continue
		}
		n, err := strconv.Atoi(max)
		if err != nil || n < 0 || strings.HasPrefix(max, "+") {
			p.cfg.problem(pos, Ignored, "NUMBER entry %q: the limit must be a whole number 0 or more", e)
			continue
		}
		limits = append(limits, Limit{Group: group, Max: n})
	}
	return limits
}

func (p *parser) parseHosts(pos Pos, entries []string) []HostPattern {
	if len(entries) == 0 {
		p.cfg.problem(pos, Ignored, "empty HOST list")
		return nil
	}
	var hosts []HostPattern
	for _, e := range entries {
		h, warning, err := parseHostPattern(e)
		if err != nil {
			p.cfg.problem(pos, Ignored, "HOST entry %v", err)
			continue
		}
		if warning != "" {
			p.cfg.problem(pos, Warning, "HOST entry %s", warning)
		}
		hosts = append(hosts, h)
	}
	return hosts
}

// checkNames warns about list entries that are valid but rarely meant. A
// name with ':' matches nobody (no user or group name has one): in an OPEN
// rule that is a warning, in a rule that could keep logins out it is a
// broken entry (broken.go).
func (p *parser) checkNames(pos Pos, r *Rule) {
	colon := Warning
	if r.Option != OptOpen {
		colon = Ignored
	}
	for _, n := range r.Names {
		switch {
		case r.Target == TargetUser && n == AllGroups:
			p.cfg.problem(pos, Warning, "USER ALL names a user called ALL; for every user write GROUP ALL")
		case r.Target == TargetGroup && n != AllGroups && strings.EqualFold(n, AllGroups):
			p.cfg.problem(pos, Warning, "group %q is a group of that name; for every user write ALL in capitals", n)
		case r.Target == TargetGroup && strings.Contains(n, ":"):
			p.cfg.problem(pos, colon, "group %q: group names cannot contain ':'; limits belong in a NUMBER rule", n)
		case r.Target == TargetUser && strings.Contains(n, ":"):
			p.cfg.problem(pos, colon, "user %q: user names cannot contain ':'; list entries are separated by commas", n)
		}
	}
}

// plugin finds plugins/<name>.star for a plugin OPTION.
func (p *parser) plugin(name string) (string, error) {
	if !validPluginName(name) {
		return "", fmt.Errorf("a plugin name has only letters, digits, '-' and '_'")
	}
	if p.opts.PluginDir == "" {
		return "", fmt.Errorf("no plugin directory")
	}
	path := filepath.Join(p.opts.PluginDir, name+".star")
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("no plugin file %s", path)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	return path, nil
}

func validPluginName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validServiceName accepts what a file name in /etc/pam.d can sensibly be.
func validServiceName(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '@' || c == '+'
		if !ok {
			return false
		}
	}
	return true
}
