package checkconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/opa"
)

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
