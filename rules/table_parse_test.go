package rules_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func parse(src string) *rules.Config {
	return rules.Parse("t.conf", []byte(src), rules.ParseOptions{})
}

// problemAt returns the problems of one line.
func problemsAt(cfg *rules.Config, line int) []rules.Problem {
	var out []rules.Problem
	for _, p := range cfg.Problems {
		if p.Pos.Line == line {
			out = append(out, p)
		}
	}
	return out
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		check   func(rules.Settings) bool
		problem string // on line 1 when set
	}{
		{"defaults", "", func(s rules.Settings) bool {
			return s.Default == rules.Close && s.DefaultPos.IsZero() && !s.Debug && s.AskTimeout == 30*time.Second && s.AskFallback == rules.Close
		}, ""},
		{"DEFAULT:OPEN", "DEFAULT:OPEN", func(s rules.Settings) bool { return s.Default == rules.Open && s.DefaultPos.Line == 1 }, ""},
		{"keys and values case-insensitive", "default:open\ndebug:True", func(s rules.Settings) bool { return s.Default == rules.Open && s.Debug }, ""},
		{"last DEFAULT wins", "DEFAULT:OPEN\nDEFAULT:CLOSE", func(s rules.Settings) bool { return s.Default == rules.Close && s.DefaultPos.Line == 2 }, ""},
		{"bad DEFAULT ignored", "DEFAULT:MAYBE", func(s rules.Settings) bool { return s.Default == rules.Close }, `DEFAULT must be OPEN or CLOSE, not "MAYBE"`},
		{"bad DEFAULT keeps the earlier", "DEFAULT:OPEN\nDEFAULT:SOMETIMES", func(s rules.Settings) bool { return s.Default == rules.Open }, `"SOMETIMES"`},
		{"blank after colon", "DEFAULT: OPEN", func(s rules.Settings) bool { return s.Default == rules.Close }, "KEY:VALUE with no blanks"},
		{"ASK_TIMEOUT", "ASK_TIMEOUT:90", func(s rules.Settings) bool { return s.AskTimeout == 90*time.Second }, ""},
		{"ASK_TIMEOUT too long", "ASK_TIMEOUT:91", func(s rules.Settings) bool { return s.AskTimeout == 30*time.Second }, "from 1 to 90"},
		{"ASK_TIMEOUT zero", "ASK_TIMEOUT:0", func(s rules.Settings) bool { return s.AskTimeout == 30*time.Second }, "from 1 to 90"},
		{"ASK_REMEMBER off by default", "ASK_TIMEOUT:30", func(s rules.Settings) bool { return s.AskRemember == 0 }, ""},
		{"ASK_REMEMBER", "ASK_REMEMBER:8", func(s rules.Settings) bool { return s.AskRemember == 8*time.Hour }, ""},
		{"ASK_REMEMBER OFF", "ASK_REMEMBER:8\nASK_REMEMBER:off", func(s rules.Settings) bool { return s.AskRemember == 0 }, ""},
		{"ASK_REMEMBER a week at most", "ASK_REMEMBER:169", func(s rules.Settings) bool { return s.AskRemember == 0 }, "OFF or a whole number of hours from 1 to 168"},
		{"ASK_REMEMBER zero", "ASK_REMEMBER:0", func(s rules.Settings) bool { return s.AskRemember == 0 }, "from 1 to 168"},
		{"ASK_REMEMBER with a unit", "ASK_REMEMBER:8h", func(s rules.Settings) bool { return s.AskRemember == 0 }, `not "8h"`},
		{"ASK_FALLBACK", "ASK_FALLBACK:open", func(s rules.Settings) bool { return s.AskFallback == rules.Open }, ""},
		{"MAILSERVER", "MAILSERVER:mail.example.com:25", func(s rules.Settings) bool { return s.MailServer == "mail.example.com:25" }, ""},
		{"MAILSERVER bad port", "MAILSERVER:mail:99999", func(s rules.Settings) bool { return s.MailServer == "" }, "port"},
		{"MAIL_FROM", "MAIL_FROM:pamac@host.example.org", func(s rules.Settings) bool { return s.MailFrom == "pamac@host.example.org" }, ""},
		{"MAIL_FROM with a name", "MAIL_FROM:<x@y>", func(s rules.Settings) bool { return s.MailFrom == "" }, "plain mail address"},
		{"MAIL_TLS", "MAIL_TLS:starttls\nMAIL_CA:/etc/ssl/relay.pem", func(s rules.Settings) bool { return s.MailStartTLS && s.MailCA == "/etc/ssl/relay.pem" }, ""},
		{"MAIL_TLS bad", "MAIL_TLS:yes", func(s rules.Settings) bool { return !s.MailStartTLS }, "STARTTLS or OFF"},
		{"SYSLOG_SERVER", "SYSLOG_SERVER:tls://logs.example.org", func(s rules.Settings) bool { return s.SyslogServer == "tls://logs.example.org:6514" }, ""},
		{"SYSLOG_SERVER udp", "syslog_server:udp://10.0.0.1:5140", func(s rules.Settings) bool { return s.SyslogServer == "udp://10.0.0.1:5140" }, ""},
		{"SYSLOG_SERVER no scheme", "SYSLOG_SERVER:logs:514", func(s rules.Settings) bool { return s.SyslogServer == "" }, "want udp://"},
		{"SYSLOG_CA", "SYSLOG_CA:/etc/ssl/logs-ca.pem", func(s rules.Settings) bool { return s.SyslogCA == "/etc/ssl/logs-ca.pem" }, ""},
		{"OPA defaults", "", func(s rules.Settings) bool {
			return s.OPA.Timeout == 5*time.Second && s.OPA.Fallback == rules.Close && s.OPA.Cache == 0 && s.OPA.PullFiles == nil && s.OPA.URL == ""
		}, ""},
		{"OPA_URL http", "OPA_URL:http://127.0.0.1:8181", func(s rules.Settings) bool { return s.OPA.URL == "http://127.0.0.1:8181" && s.OPA.URLPos.Line == 1 }, ""},
		{"OPA_URL https", "OPA_URL:https://opa.example.org:8443/", func(s rules.Settings) bool { return s.OPA.URL == "https://opa.example.org:8443/" }, ""},
		{"OPA_URL unix", "OPA_URL:unix:/run/opa/opa.sock", func(s rules.Settings) bool { return s.OPA.URL == "unix:/run/opa/opa.sock" }, ""},
		{"OPA_URL unix relative", "OPA_URL:unix:opa.sock", func(s rules.Settings) bool { return s.OPA.URL == "" }, "absolute, clean path"},
		{"OPA_URL with a path", "OPA_URL:http://opa:8181/v1/data/x", func(s rules.Settings) bool { return s.OPA.URL == "" }, "only scheme, host and port"},
		{"OPA_URL with user info", "OPA_URL:http://u:p@opa:8181", func(s rules.Settings) bool { return s.OPA.URL == "" }, "only scheme, host and port"},
		{"OPA_URL scheme", "OPA_URL:ftp://opa", func(s rules.Settings) bool { return s.OPA.URL == "" }, "want http://"},
		{"OPA_AUTHZ pam_authz form", "OPA_AUTHZ:/v1/data/sshd/authz", func(s rules.Settings) bool { return s.OPA.Authz == "sshd/authz" }, ""},
		{"OPA_AUTHZ package form", "OPA_AUTHZ:sshd.authz", func(s rules.Settings) bool { return s.OPA.Authz == "sshd/authz" }, ""},
		{"OPA_DISPLAY and OPA_PULL", "OPA_DISPLAY:/v1/data/display\nOPA_PULL:pull", func(s rules.Settings) bool { return s.OPA.Display == "display" && s.OPA.Pull == "pull" }, ""},
		{"OPA_AUTHZ bad segment", "OPA_AUTHZ:sshd/../x", func(s rules.Settings) bool { return s.OPA.Authz == "" }, "segments of letters"},
		{"OPA_TIMEOUT", "OPA_TIMEOUT:2", func(s rules.Settings) bool { return s.OPA.Timeout == 2*time.Second }, ""},
		{"OPA_TIMEOUT too long", "OPA_TIMEOUT:61", func(s rules.Settings) bool { return s.OPA.Timeout == 5*time.Second }, "from 1 to 60"},
		{"OPA_FALLBACK", "OPA_FALLBACK:open", func(s rules.Settings) bool { return s.OPA.Fallback == rules.Open }, ""},
		{"OPA_FALLBACK bad", "OPA_FALLBACK:ASK", func(s rules.Settings) bool { return s.OPA.Fallback == rules.Close }, "OPEN or CLOSE"},
		{"OPA_CACHE", "OPA_CACHE:600", func(s rules.Settings) bool { return s.OPA.Cache == 600*time.Second }, ""},
		{"OPA_CACHE off", "OPA_CACHE:600\nOPA_CACHE:OFF", func(s rules.Settings) bool { return s.OPA.Cache == 0 }, ""},
		{"OPA_CACHE bad", "OPA_CACHE:forever", func(s rules.Settings) bool { return s.OPA.Cache == 0 }, "whole number of seconds"},
		{"OPA_PULL_FILES", "OPA_PULL_FILES:/etc/host_identity.json,/etc/opa/", func(s rules.Settings) bool {
			return len(s.OPA.PullFiles) == 2 && s.OPA.PullFiles[1] == "/etc/opa/"
		}, ""},
		{"OPA_PULL_FILES root", "OPA_PULL_FILES:/", func(s rules.Settings) bool { return s.OPA.PullFiles == nil }, "every file root can"},
		{"OPA_PULL_FILES unclean", "OPA_PULL_FILES:/etc/opa/../shadow", func(s rules.Settings) bool { return s.OPA.PullFiles == nil }, "absolute, clean path"},
		{"OPA_PULL_FILES relative", "OPA_PULL_FILES:host.json", func(s rules.Settings) bool { return s.OPA.PullFiles == nil }, "absolute, clean path"},
		{"AUDIT_LOG", "AUDIT_LOG:/var/log/pamac/audit.jsonl", func(s rules.Settings) bool { return s.AuditLog == "/var/log/pamac/audit.jsonl" }, ""},
		{"AUDIT_LOG relative", "AUDIT_LOG:audit.jsonl", func(s rules.Settings) bool { return s.AuditLog == "" }, "AUDIT_LOG names the JSON-lines file, by absolute path"},
		{"AUDIT_LOG a directory", "AUDIT_LOG:/var/log/", func(s rules.Settings) bool { return s.AuditLog == "" }, "by absolute path"},
		{"WEBHOOK_SECRET relative", "WEBHOOK_SECRET:key", func(s rules.Settings) bool { return s.WebhookKey == "" }, "the file holding the key"},
		{"MAIL_CA relative", "MAIL_CA:ca.pem", func(s rules.Settings) bool { return s.MailCA == "" }, "absolute path"},
		{"SYSLOG_CA relative", "SYSLOG_CA:ca.pem", func(s rules.Settings) bool { return s.SyslogCA == "" }, "absolute path"},
		{"SYSLOG_CERT and KEY", "SYSLOG_CERT:/etc/ssl/h.pem\nSYSLOG_KEY:/etc/ssl/h.key", func(s rules.Settings) bool {
			return s.SyslogCert == "/etc/ssl/h.pem" && s.SyslogKey == "/etc/ssl/h.key"
		}, ""},
		{"SYSLOG_KEY relative", "SYSLOG_KEY:h.key", func(s rules.Settings) bool { return s.SyslogKey == "" }, "absolute path"},
		{"SYSLOG_TIMEOUT", "SYSLOG_TIMEOUT:2", func(s rules.Settings) bool { return s.SyslogTimeout == 2*time.Second }, ""},
		{"SYSLOG_TIMEOUT too long", "SYSLOG_TIMEOUT:31", func(s rules.Settings) bool { return s.SyslogTimeout == 5*time.Second }, "from 1 to 30"},
		{"SERVER_GROUP default", "", func(s rules.Settings) bool { return s.ServerGroup == "default" && s.ServerGroupPos.IsZero() }, ""},
		{"SERVER_GROUP", "server_group:Web-EU.2", func(s rules.Settings) bool { return s.ServerGroup == "Web-EU.2" && s.ServerGroupPos.Line == 1 }, ""},
		{"SERVER_GROUP, the last wins", "SERVER_GROUP:a\nSERVER_GROUP:b", func(s rules.Settings) bool { return s.ServerGroup == "b" && s.ServerGroupPos.Line == 2 }, ""},
		{"SERVER_GROUP empty", "SERVER_GROUP:", func(s rules.Settings) bool { return s.ServerGroup == "default" }, `SERVER_GROUP: a name of 1 to 64 characters, not ""`},
		{"SERVER_GROUP bad character", "SERVER_GROUP:web/eu", func(s rules.Settings) bool { return s.ServerGroup == "default" }, `"web/eu": a name of letters`},
		{"SERVER_GROUP leading dot", "SERVER_GROUP:.x", func(s rules.Settings) bool { return s.ServerGroup == "default" }, `starting with a letter or digit`},
		{"SERVER_GROUP too long", "SERVER_GROUP:" + strings.Repeat("a", 65), func(s rules.Settings) bool { return s.ServerGroup == "default" }, `1 to 64`},
		{"HOST_NAMES default", "", func(s rules.Settings) bool { return !s.TrustHostNames && s.HostNamesPos.IsZero() }, ""},
		{"HOST_NAMES:TRUST", "host_names:trust", func(s rules.Settings) bool { return s.TrustHostNames && s.HostNamesPos.Line == 1 }, ""},
		{"HOST_NAMES:DISTRUST, the last wins", "HOST_NAMES:TRUST\nHOST_NAMES:DISTRUST", func(s rules.Settings) bool { return !s.TrustHostNames && s.HostNamesPos.Line == 2 }, ""},
		{"HOST_NAMES bad", "HOST_NAMES:YES", func(s rules.Settings) bool { return !s.TrustHostNames && s.HostNamesPos.IsZero() }, `HOST_NAMES must be TRUST or DISTRUST, not "YES"`},
		{"HOST_NAMES bad keeps the earlier", "HOST_NAMES:TRUST\nHOST_NAMES:", func(s rules.Settings) bool { return s.TrustHostNames && s.HostNamesPos.Line == 1 }, `not ""`},
		{"DEBUG bad", "DEBUG:yes", func(s rules.Settings) bool { return !s.Debug }, "TRUE or FALSE"},
		{"unknown key", "COLOUR:blue", func(rules.Settings) bool { return true }, `unknown setting "COLOUR"`},
		{"leading blanks and comment", "   DEFAULT:OPEN   # open by default", func(s rules.Settings) bool { return s.Default == rules.Open }, ""},
	}
	for _, tt := range tests {
		cfg := parse(tt.src)
		if !tt.check(cfg.Settings) {
			t.Errorf("%s: settings %+v", tt.name, cfg.Settings)
		}
		ps := cfg.Problems
		switch {
		case tt.problem == "" && len(ps) != 0:
			t.Errorf("%s: unexpected problems %v", tt.name, ps)
		case tt.problem != "" && (len(ps) != 1 || !strings.Contains(ps[0].Message, tt.problem) || ps[0].Severity != rules.Ignored):
			t.Errorf("%s: problems %v, want one ignored line with %q", tt.name, cfg.Problems, tt.problem)
		}
	}
}

func TestRuleForms(t *testing.T) {
	tests := []struct {
		line    string
		service string
		option  rules.Option
		target  rules.TargetKind
		names   string // comma-joined Names, Hosts' texts or limits
	}{
		{"SSHD OPEN GROUP admins", "SSHD", rules.OptOpen, rules.TargetGroup, "admins"},
		{"sshd open group admins", "SSHD", rules.OptOpen, rules.TargetGroup, "admins"},
		{"SSH\tASK\tGROUP\tlp", "SSH", rules.OptAsk, rules.TargetGroup, "lp"},
		{"  XDM   CLOSE   USERS   bob,,Alice,  ", "XDM", rules.OptClose, rules.TargetUser, "bob,Alice"},
		{"TTY OPEN USER bob # the console", "TTY", rules.OptOpen, rules.TargetUser, "bob"},
		{"SSHD-KEY OPEN GROUPS ALL", "SSHD-KEY", rules.OptOpen, rules.TargetGroup, "ALL"},
		{"gdm-password OPEN USER bob", "GDM-PASSWORD", rules.OptOpen, rules.TargetUser, "bob"},
		{"SDDM NUMBER GROUP users:2,lp:0", "SDDM", rules.OptNumber, rules.TargetGroup, "users:2,lp:0"},
		{"SSHD CLOSE HOST 10.0.0.0/8,2001:db8::/32,192.0.2.1,::1,Gateway.Example.COM.,LOCAL", "SSHD", rules.OptClose,
			rules.TargetHost, "10.0.0.0/8,2001:db8::/32,192.0.2.1,::1,Gateway.Example.COM.,LOCAL"},
		{"ALL PIN USER carol", "ALL", rules.OptPin, rules.TargetUser, "carol"},
		{"ALL pingpg USER carol", "ALL", rules.OptPinGPG, rules.TargetUser, "carol"},
	}
	for _, tt := range tests {
		cfg := parse(tt.line)
		if len(cfg.Rules) != 1 {
			t.Errorf("%q: %d rules, problems %v", tt.line, len(cfg.Rules), cfg.Problems)
			continue
		}
		r := cfg.Rules[0]
		var names []string
		names = append(names, r.Names...)
		for _, h := range r.Hosts {
			names = append(names, h.Text)
		}
		for _, l := range r.Limits {
			names = append(names, l.Group+":"+strconv.Itoa(l.Max))
		}
		if r.Service.Name != tt.service || r.Option != tt.option || r.Target != tt.target || strings.Join(names, ",") != tt.names || r.Pos.Line != 1 {
			t.Errorf("%q: got %s %v %v %q at line %d", tt.line, r.Service.Name, r.Option, r.Target, names, r.Pos.Line)
		}
		for _, p := range cfg.Problems {
			if p.Severity != rules.Warning {
				t.Errorf("%q: problem %v", tt.line, p)
			}
		}
	}
}

// TestBrokenLines: each broken line is reported on its line, with its
// offending text, and ignored.
func TestBrokenLines(t *testing.T) {
	tests := []struct {
		line     string
		severity rules.Severity
		message  string
		kept     bool
	}{
		{"SSHD OPEN USER bob, alice", rules.Ignored, "this line has 5", false},
		{"SSHD OPEN USER", rules.Ignored, "this line has 3", false},
		{"garbage", rules.Ignored, `"garbage" is neither a setting`, false},
		{"SSHD OPNE USER bob", rules.Ignored, `unknown option "OPNE"`, false},
		{"SSHD OPEN USR bob", rules.Ignored, `unknown target "USR"`, false},
		{"SSH/D OPEN USER bob", rules.Ignored, `"SSH/D" is not a PAM service name`, false},
		{"SSHD NUMBER GROUP users", rules.Ignored, `NUMBER entry "users" needs a limit`, false},
		{"SSHD NUMBER GROUP users:-1", rules.Ignored, `"users:-1": the limit must be a whole number`, false},
		{"SSHD NUMBER GROUP users:two", rules.Ignored, `"users:two"`, false},
		{"SSHD NUMBER GROUP users:+2", rules.Ignored, `"users:+2"`, false},
		{"SSHD NUMBER USER bob:2", rules.Ignored, "NUMBER limits groups", false},
		{"SSHD OPEN USER ,,,", rules.Ignored, "empty USER list", false},
		{"SSHD CLOSE HOST 10.0.0.0/33", rules.Ignored, `"10.0.0.0/33" is not a network`, false},
		{"SSHD CLOSE HOST not_a*host", rules.Ignored, "is not an address", false},
		{"SSHD CLOSE HOST 10.1.2.3/16", rules.Warning, "host bits set; it means 10.1.0.0/16", true},
		{"SSHD CLOSE HOST local", rules.Warning, "write LOCAL in capitals", true},
		{"SSHD OPEN USER ALL", rules.Warning, "USER ALL names a user called ALL", true},
		{"SSHD OPEN GROUP all", rules.Warning, "ALL in capitals", true},
		{"SSHD OPEN GROUP users:2", rules.Warning, "limits belong in a NUMBER rule", true},
		{"SSHD OPEN USER bob\x01", rules.Ignored, "control character", false},
		{"SSHD OPEN USER b\xffb", rules.Ignored, "not valid UTF-8", false},
		{"SSHD officehours USER bob", rules.Ignored, "no plugin directory", false},
		{"SSHD ../evil USER bob", rules.Ignored, "a plugin name has only letters", false},
	}
	for _, tt := range tests {
		cfg := parse("# comment\n" + tt.line + "\n")
		ps := problemsAt(cfg, 2)
		if len(ps) != 1 || ps[0].Severity != tt.severity || !strings.Contains(ps[0].Message, tt.message) {
			t.Errorf("%q: problems %v, want one %v with %q", tt.line, cfg.Problems, tt.severity, tt.message)
		}
		if kept := len(cfg.Rules) == 1; kept != tt.kept {
			t.Errorf("%q: kept %v, want %v", tt.line, kept, tt.kept)
		}
	}
}

// TestFileOfBrokenLines: a file mixing good and broken lines keeps the good
// rules in order, and every problem carries its own line number.
func TestFileOfBrokenLines(t *testing.T) {
	src := strings.Join([]string{
		"# header",                     // 1
		"DEFAULT:OPEN",                 // 2
		"SSHD OPEN USER bob, alice",    // 3 broken
		"",                             // 4
		"SSHD OPEN USER bob",           // 5 good
		"SSHD FOO USER bob",            // 6 broken
		"\tSSH CLOSE GROUP lp # no lp", // 7 good
		"DEFAULT: CLOSE",               // 8 broken
		"XDM NUMBER GROUP users:x",     // 9 broken
		"XDM NUMBER GROUP users:1",     // 10 good
		"SSHD OPEN",                    // 11 broken
		"TTY OPEN HOST LOCAL",          // 12 good
		"LOGIN ASK GROUPZ x",           // 13 broken
		"DEFAULT:SOMETIMES",            // 14 broken
	}, "\r\n")
	cfg := rules.Parse("broken.conf", []byte("\xef\xbb\xbf"+src), rules.ParseOptions{})
	var lines []int
	for _, r := range cfg.Rules {
		lines = append(lines, r.Pos.Line)
	}
	if got := joinInts(lines); got != "5,7,10,12" {
		t.Errorf("rules at lines %s, want 5,7,10,12", got)
	}
	var bad []int
	for _, p := range cfg.Problems {
		if p.Pos.File != "broken.conf" {
			t.Errorf("problem %v names the wrong file", p)
		}
		bad = append(bad, p.Pos.Line)
	}
	if got := joinInts(bad); got != "3,6,8,9,11,13,14" {
		t.Errorf("problems at lines %s, want 3,6,8,9,11,13,14: %v", got, cfg.Problems)
	}
	if cfg.Settings.Default != rules.Open || cfg.Settings.DefaultPos.Line != 2 {
		t.Errorf("DEFAULT %v at %v", cfg.Settings.Default, cfg.Settings.DefaultPos)
	}
	if cfg.Rules[1].Text != "SSH CLOSE GROUP lp" {
		t.Errorf("rule text %q: blanks normalised, comment removed", cfg.Rules[1].Text)
	}
}

func joinInts(n []int) string {
	var s []string
	for _, i := range n {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, ",")
}

func TestPluginOption(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	os.Mkdir(plugins, 0o755)
	os.WriteFile(filepath.Join(plugins, "officehours.star"), []byte("def decide(ctx):\n    return None\n"), 0o644)
	os.Mkdir(filepath.Join(plugins, "adir.star"), 0o755)
	cfg := rules.Parse("t.conf", []byte("SSHD OfficeHours GROUP staff\nSSHD nosuch USER bob\nSSHD adir USER bob\n"),
		rules.ParseOptions{PluginDir: plugins})
	if len(cfg.Rules) != 1 || cfg.Rules[0].Option != rules.OptPlugin || cfg.Rules[0].Plugin != "officehours" {
		t.Fatalf("rules %+v, problems %v", cfg.Rules, cfg.Problems)
	}
	if cfg.Plugins["officehours"] != filepath.Join(plugins, "officehours.star") {
		t.Errorf("plugins %v", cfg.Plugins)
	}
	if ps := problemsAt(cfg, 2); len(ps) != 1 || !strings.Contains(ps[0].Message, "no plugin file "+filepath.Join(plugins, "nosuch.star")) {
		t.Errorf("line 2: %v", ps)
	}
	if ps := problemsAt(cfg, 3); len(ps) != 1 || !strings.Contains(ps[0].Message, "not a regular file") {
		t.Errorf("line 3: %v", ps)
	}
}
