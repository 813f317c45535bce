package checkconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/capool"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/remotelog"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// checkSettingFiles reads the files that settings name, as the helper and
// the deliverer will: a key or CA bundle that is missing, not root's alone
// or not PEM means events that never arrive, found here rather than in
// the log. WEBHOOK_SECRET, a secret, must also be closed to group and
// others.
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
	for _, f := range []struct {
		key, path, gone string
		secret          bool // closed to group and others too (trust.Private)
	}{
		{"WEBHOOK_SECRET", s.WebhookKey, "no event is posted", true},
		{"SYSLOG_CA", s.SyslogCA, "no event reaches the syslog server", false},
		{"SYSLOG_CERT", s.SyslogCert, "no event reaches the syslog server", false},
		{"SYSLOG_KEY", s.SyslogKey, "no event reaches the syslog server", false},
		{"MAIL_CA", s.MailCA, "no mail and no PIN goes out", false},
		{"OPA_CA", s.OPA.CA, "OPA is never reached, and OPA_FALLBACK decides", false},
		{"OIDC_CA", s.OIDC.CA, "no token can be checked, and OIDC_FALLBACK decides", false},
	} {
		if f.path == "" {
			continue
		}
		var err error
		if f.secret {
			_, err = trust.ReadFile(f.path, rules.MaxFileSize, trust.Private) // as the deliverer reads it
		} else {
			err = trust.File(f.path)
		}
		if err != nil {
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
		if _, err := remotelog.KeyPair(s.SyslogCert, s.SyslogKey); err != nil {
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
