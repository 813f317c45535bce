package checkconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

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
