package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/capool"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/opa"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// checkReport is check-my-config's result, also its --json form.
type checkReport struct {
	OK       bool           `json:"ok"`
	Files    []string       `json:"files"`
	Rules    int            `json:"rules"`
	Problems []checkProblem `json:"problems"`
}

type checkProblem struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Text     string `json:"text,omitempty"` // the line as written
	// Refuses names the logins a broken line refuses until it is fixed
	// (severity "error"), like "every SSHD login (sshd with a password or
	// keyboard-interactive)"
	Refuses string `json:"refuses,omitempty"`
}

// runCheck is `check-my-config [--json] [FILE…]`: with no FILE the main
// config and its drop-ins, as the PAM module reads them; with FILEs each
// one alone. Exit 0 when there is nothing to report, 1 otherwise.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-my-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var cfgs []*rules.Config
	if fs.NArg() == 0 {
		cfg, _ := rules.Load(rules.LoadOptions{})
		cfgs = append(cfgs, cfg)
	}
	for _, f := range fs.Args() {
		cfg, _ := rules.Load(rules.LoadOptions{Path: f, NoDropIns: true})
		cfgs = append(cfgs, cfg)
	}

	report := checkReport{Files: []string{}, Problems: []checkProblem{}}
	lines := lineCache{}
	for _, cfg := range cfgs {
		report.Files = append(report.Files, cfg.Files...)
		report.Rules += len(cfg.Rules)
		problems := append(slices.Clone(cfg.Problems), lintServices(cfg)...)
		problems = append(problems, checkPlugins(cfg)...)
		problems = append(problems, checkSettingFiles(cfg)...)
		problems = append(problems, checkPinSetup(cfg)...)
		problems = append(problems, checkHostNames(cfg)...)
		problems = append(problems, checkOPASetup(cfg)...)
		slices.SortStableFunc(problems, func(a, b rules.Problem) int {
			return cmp.Compare(fileIndex(cfg, a.Pos.File), fileIndex(cfg, b.Pos.File))*2 +
				cmp.Compare(a.Pos.Line, b.Pos.Line)
		})
		if fs.NArg() == 0 || filepath.Base(cfg.Files[0]) == filepath.Base(rules.DefaultPath) {
			mailFiles, mailProblems := checkMailFiles(cfg)
			report.Files = append(report.Files, mailFiles...)
			problems = append(problems, mailProblems...)
		}
		for _, p := range problems {
			cp := checkProblem{File: p.Pos.File, Line: p.Pos.Line, Severity: p.Label(), Message: p.Text(), Text: lines.get(p.Pos)}
			if p.Locks != nil {
				cp.Refuses = p.Locks.Scope()
			}
			report.Problems = append(report.Problems, cp)
		}
	}
	report.OK = len(report.Problems) == 0

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(report)
	} else {
		printCheck(stdout, report)
	}
	if report.OK {
		return 0
	}
	return 1
}

func printCheck(w io.Writer, r checkReport) {
	for _, p := range r.Problems {
		if p.Line > 0 {
			fmt.Fprintf(w, "%s:%d: %s: %s\n", p.File, p.Line, p.Severity, p.Message)
		} else {
			fmt.Fprintf(w, "%s: %s: %s\n", p.File, p.Severity, p.Message)
		}
		if p.Text != "" {
			fmt.Fprintf(w, "    %s\n", p.Text)
		}
	}
	summary := fmt.Sprintf("%d file(s), %d rule(s)", len(r.Files), r.Rules)
	if r.OK {
		fmt.Fprintf(w, "OK: %s, no problems\n", summary)
		return
	}
	fmt.Fprintf(w, "%s, %d problem(s)\n", summary, len(r.Problems))
	refused, errors := false, map[string]bool{}
	for _, p := range r.Problems {
		refused = refused || p.Severity == rules.Fatal.String()
		if p.Severity == "error" {
			errors[fmt.Sprintf("%s:%d", p.File, p.Line)] = true
		}
	}
	if refused {
		fmt.Fprintln(w, "REFUSED: every login is denied until each refused file is fixed")
	}
	if len(errors) > 0 {
		fmt.Fprintf(w, "ERRORS: %d broken line(s) could have kept logins out: the logins each one names are refused until it is fixed\n", len(errors))
	}
}

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

// lineCache shows the text of a reported line.
type lineCache map[string][]string

func (c lineCache) get(pos rules.Pos) string {
	if pos.Line <= 0 {
		return ""
	}
	lines, ok := c[pos.File]
	if !ok {
		data, err := os.ReadFile(pos.File)
		if err == nil {
			lines = strings.Split(string(data), "\n")
		}
		c[pos.File] = lines
	}
	if pos.Line > len(lines) {
		return ""
	}
	return printable(strings.TrimSpace(strings.TrimSuffix(lines[pos.Line-1], "\r")))
}

// printable escapes what a terminal must not receive raw.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) < 0 && utf8.ValidString(s) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// fileIndex orders problems by the order the files were read.
func fileIndex(cfg *rules.Config, file string) int {
	if i := slices.Index(cfg.Files, file); i >= 0 {
		return i
	}
	return len(cfg.Files)
}

// checkMailFiles reads the original's mail files beside the main config:
// their skipped lines, a file that is not trusted (its mails are not sent,
// its PINs not mailed), and recipients with no relay to mail them through.
func checkMailFiles(cfg *rules.Config) (files []string, out []rules.Problem) {
	if len(cfg.Files) == 0 {
		return nil, nil
	}
	for _, name := range []string{rules.MailNotificationFile, rules.LoginMailMappingFile} {
		path := filepath.Join(filepath.Dir(cfg.Files[0]), name)
		m, err := rules.LoadMailMap(cfg.Files[0], name, false)
		switch {
		case errors.Is(err, rules.ErrNoMailMap):
			continue
		case err != nil:
			out = append(out, rules.Problem{Pos: rules.Pos{File: path}, Severity: rules.Warning,
				Message: fmt.Sprintf("not used: %v", err)})
			continue
		}
		files = append(files, path)
		out = append(out, m.Problems...)
		if !m.Empty() && cfg.Settings.MailServer == "" && m.Server == "" {
			out = append(out, rules.Problem{Pos: rules.Pos{File: path}, Severity: rules.Warning,
				Message: "names mail addresses, but no MAILSERVER is set to send through: no mail goes out"})
		}
	}
	return files, out
}

// checkSettingFiles reads the files that settings name, as the helper and
// the deliverer will: a key or CA bundle that is missing, not root's alone
// or not PEM means events that never arrive, found here rather than in
// the log.
func checkSettingFiles(cfg *rules.Config) []rules.Problem {
	if len(cfg.Files) == 0 {
		return nil
	}
	s := cfg.Settings
	var out []rules.Problem
	warn := func(format string, args ...any) {
		out = append(out, rules.Problem{Pos: rules.Pos{File: cfg.Files[0]}, Severity: rules.Warning,
			Message: fmt.Sprintf(format, args...)})
	}
	for _, f := range []struct{ key, path, gone string }{
		{"WEBHOOK_SECRET", s.WebhookKey, "no event is posted"},
		{"SYSLOG_CA", s.SyslogCA, "no event reaches the syslog server"},
		{"SYSLOG_CERT", s.SyslogCert, "no event reaches the syslog server"},
		{"SYSLOG_KEY", s.SyslogKey, "no event reaches the syslog server"},
		{"MAIL_CA", s.MailCA, "no mail and no PIN goes out"},
		{"OPA_CA", s.OPA.CA, "OPA is never reached, and OPA_FALLBACK decides"},
	} {
		if f.path == "" {
			continue
		}
		if err := trust.File(f.path); err != nil {
			warn("%s %v: %s", f.key, err, f.gone)
			continue
		}
		if strings.HasSuffix(f.key, "_CA") {
			if _, err := capool.Load(f.path); err != nil {
				warn("%s: %v: %s", f.key, err, f.gone)
			}
		}
	}
	switch {
	case (s.SyslogCert == "") != (s.SyslogKey == ""):
		warn("SYSLOG_CERT and SYSLOG_KEY go together: with one alone, no event reaches the syslog server")
	case s.SyslogCert != "":
		if _, err := tls.LoadX509KeyPair(s.SyslogCert, s.SyslogKey); err != nil {
			warn("SYSLOG_CERT and SYSLOG_KEY: %v: no event reaches the syslog server", err)
		}
	}
	if s.AuditLog != "" {
		if fi, err := os.Stat(filepath.Dir(s.AuditLog)); err != nil || !fi.IsDir() {
			if !errors.Is(err, fs.ErrNotExist) {
				warn("AUDIT_LOG: %s is not a directory: no event is written", filepath.Dir(s.AuditLog))
			} // a missing directory is made at the first event
		}
	}
	return out
}

// urlHostPort is an http(s) URL's host:port, the scheme's port when it
// names none; "" when it is not such a URL.
func urlHostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	port := map[string]string{"http": "80", "https": "443"}[u.Scheme]
	if port == "" {
		return ""
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// checkPinSetup warns at the first PIN or PINGPG rule when the PIN could
// not be mailed: no login-mail-mapping.conf beside the file, or no relay.
// Such a rule is kept (its users are denied, failing closed), but the
// admin should know. The mapping's own lines are checkMailFiles' to report.
func checkPinSetup(cfg *rules.Config) []rules.Problem {
	i := slices.IndexFunc(cfg.Rules, func(r *rules.Rule) bool { return r.Option == rules.OptPin || r.Option == rules.OptPinGPG })
	if i < 0 || len(cfg.Files) == 0 {
		return nil
	}
	r := cfg.Rules[i]
	warn := func(format string, args ...any) []rules.Problem {
		return []rules.Problem{{Pos: r.Pos, Severity: rules.Warning, Message: fmt.Sprintf(format, args...)}}
	}
	m, err := rules.LoadMailMap(cfg.Files[0], rules.LoginMailMappingFile, false)
	switch {
	case errors.Is(err, rules.ErrNoMailMap):
		return warn("%s mails a PIN to the address in %s, which does not exist: the users it matches are denied",
			r.Option, filepath.Join(filepath.Dir(cfg.Files[0]), rules.LoginMailMappingFile))
	case err != nil:
		return warn("%s: %v: the users it matches are denied", r.Option, err)
	case cfg.Settings.MailServer == "" && m.Server == "":
		return warn("%s mails a PIN through MAILSERVER, which is not set: the users it matches are denied", r.Option)
	}
	relay := cfg.Settings.MailServer
	if relay == "" {
		relay = m.Server
	}
	if _, _, err := net.SplitHostPort(relay); err != nil {
		relay = net.JoinHostPort(strings.Trim(relay, "[]"), "25")
	}
	if err := localpeer.CheckHostPort(context.Background(), relay); err != nil {
		return warn("%s mails a PIN through MAILSERVER %s: %v: no PIN is mailed, and the users it matches are denied", r.Option, relay, err)
	}
	return nil
}

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

// checkHostNames warns at every host name in a HOST list: PAM_RHOST shows a
// name only when the host application looked it up itself (vsftpd, sshd
// with UseDNS yes), and whoever controls the client's PTR record chooses
// it. What the entry does depends on HOST_NAMES (rules.md, "Remote host
// names"); the warning says it. With HOST_NAMES:TRUST it also warns at a
// CLOSE rule's addresses and networks, which then let a name through.
func checkHostNames(cfg *rules.Config) []rules.Problem {
	const ptr = "whoever controls the PTR record of a client's address can put any name in PAM_RHOST"
	trust := cfg.Settings.TrustHostNames
	var out []rules.Problem
	warn := func(r *rules.Rule, format string, args ...any) {
		out = append(out, rules.Problem{Pos: r.Pos, Severity: rules.Warning, Message: fmt.Sprintf(format, args...)})
	}
	for _, r := range cfg.Rules {
		if r.Target != rules.TargetHost {
			continue
		}
		networks := false
		for _, h := range r.Hosts {
			networks = networks || h.IsNetwork()
			if !h.IsName() || strings.EqualFold(h.Text, rules.LocalHost) { // "local" has its own warning
				continue
			}
			entry := fmt.Sprintf("HOST entry %q is a host name", h.Text)
			switch {
			case r.Option == rules.OptClose:
				warn(r, "%s: it closes only a login whose PAM_RHOST shows this very name (with or without HOST_NAMES:TRUST); "+
					"a client whose PTR record says another name, or a host application that passes addresses, is not closed by it: "+
					"close its address or network", entry)
			case trust:
				warn(r, "%s, matched because HOST_NAMES:TRUST is set: %s; list its address or network instead", entry, ptr)
			case r.Option == rules.OptPlugin:
				warn(r, "%s: plugin %s is asked about it, but its OPEN counts only with HOST_NAMES:TRUST, since %s; "+
					"list its address or network instead", entry, r.Plugin, ptr)
			case r.Option == rules.OptOpen:
				warn(r, "%s: it lets no login in, since %s; it matches only with HOST_NAMES:TRUST; "+
					"list its address or network instead", entry, ptr)
			default: // ASK, PIN, PINGPG
				warn(r, "%s: it lets no login in, since %s; it matches only with HOST_NAMES:TRUST "+
					"(without, it can only turn a login that another rule opens into %s); list its address or network instead",
					entry, ptr, r.Option)
			}
		}
		if trust && networks && r.Option == rules.OptClose {
			warn(r, "with HOST_NAMES:TRUST, the addresses and networks of a CLOSE rule do not close a login whose PAM_RHOST "+
				"is a host name (without it, they do)")
		}
	}
	return out
}

// checkOPASetup warns where OPA rules cannot work as written: no OPA_URL
// or OPA_AUTHZ (their users are denied), a unix socket that is not
// root's, pull files that do not exist or that someone other than root
// could write (left out of every pull), and OPA settings that no rule
// uses.
func checkOPASetup(cfg *rules.Config) []rules.Problem {
	if len(cfg.Files) == 0 {
		return nil
	}
	o := cfg.Settings.OPA
	var out []rules.Problem
	warn := func(pos rules.Pos, format string, args ...any) {
		out = append(out, rules.Problem{Pos: pos, Severity: rules.Warning, Message: fmt.Sprintf(format, args...)})
	}
	i := slices.IndexFunc(cfg.Rules, func(r *rules.Rule) bool { return r.Option == rules.OptOPA })
	if i < 0 {
		if o.URL != "" {
			warn(o.URLPos, "OPA_URL is set, but no rule has the option OPA: OPA is never asked")
		}
		return out
	}
	r := cfg.Rules[i]
	if o.URL == "" {
		warn(r.Pos, "OPA asks Open Policy Agent, but no OPA_URL is set: the users it names are denied")
	}
	if o.Authz == "" {
		warn(r.Pos, "OPA asks Open Policy Agent, but no OPA_AUTHZ names the authz policy (like OPA_AUTHZ:/v1/data/sshd/authz): "+
			"the users it names are denied")
	}
	if sock, ok := strings.CutPrefix(o.URL, "unix:"); ok {
		if err := opa.CheckSocket(strings.TrimPrefix(sock, "//")); err != nil {
			warn(o.URLPos, "OPA_URL: %v: OPA cannot be asked, and OPA_FALLBACK:%s decides", err, o.Fallback)
		}
	} else if err := localpeer.CheckHostPort(context.Background(), urlHostPort(o.URL)); err != nil {
		warn(o.URLPos, "OPA_URL: %v: OPA cannot be asked, and OPA_FALLBACK:%s decides", err, o.Fallback)
	}
	if len(o.PullFiles) > 0 && o.Pull == "" {
		warn(o.PullFilesPos, "OPA_PULL_FILES is set, but no OPA_PULL names the pull policy: nothing is pulled")
	}
	for _, f := range o.PullFiles {
		path := strings.TrimSuffix(f, "/")
		fi, err := os.Stat(path)
		if err != nil {
			warn(o.PullFilesPos, "OPA_PULL_FILES entry %s: %v: a pull of it is left out", f, errors.Unwrap(err))
			continue
		}
		check := trust.File
		if fi.IsDir() {
			check = trust.Dir
		}
		if err := check(path); err != nil {
			warn(o.PullFilesPos, "OPA_PULL_FILES entry %s: %v: a pull of it is left out", f, err)
		}
	}
	return out
}
