// Package explain is `pam-accesscontrol explain`: it decides one login
// exactly as the PAM module would and prints the decision, the line that
// made it, and the trace of every rule on the way.
package explain

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/opa"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/plugin"
)

// Options are one explain run: the login, and what stands in for the
// module's surroundings.
type Options struct {
	// Conf is the main config file; "" for the installed one. Drop-ins
	// beside it are read too.
	Conf string
	// Login is the login to decide, its user as the application gives
	// it. An Auth of "" is a password login for sshd (PAM authentication
	// ran), rules.AuthNone for any other service.
	Login rules.Login
	// SessionsFile is a JSON list of live sessions to use instead of
	// systemd-logind's (readSessions); "" asks logind.
	SessionsFile string
	// OPAAnswers are what the user would type at the prompts of OPA's
	// display cycle, by the prompt's key; unanswered prompts get "".
	OPAAnswers map[string]string

	// Users and Groups are NSS (nil), or a test's.
	Users  rules.Users
	Groups rules.Groups
	// Sessions stands in for systemd-logind (nil) when no SessionsFile
	// is given.
	Sessions rules.Sessions
}

// Main is `explain --conf FILE --service SVC --user USER …`: its command
// line, then Run.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := fs.String("conf", "", "main config file (default "+rules.DefaultPath+"); drop-ins beside it are read too")
	service := fs.String("service", "", "PAM service of the login: sshd, login, sddm, gdm-password…")
	user := fs.String("user", "", "user name, as the login gives it (PAM_USER); rules see the name NSS gives the account")
	rhost := fs.String("rhost", "", "remote host as PAM_RHOST shows it; empty for a local login")
	auth := fs.String("auth", "", "for sshd: password (PAM authentication ran) or key (public key, certificate)")
	sessionsFile := fs.String("sessions", "", "JSON list of live sessions (user, service, rhost, class, state) to use instead of systemd-logind's")
	ruser := fs.String("ruser", "", "PAM_RUSER, for OPA's sysinfo.pam_req_username")
	tty := fs.String("tty", "", "PAM_TTY")
	var answers opaAnswers
	fs.Var(&answers, "opa-answer", "KEY=VALUE: what the user would type at the prompt of OPA's display cycle with that key (repeatable; "+
		"unanswered prompts get \"\"); answers to echo-off prompts are masked in the output")
	if err := fs.Parse(args); err != nil {
		return cli.ExitUsage
	}
	if fs.NArg() > 0 || *service == "" || *user == "" {
		fmt.Fprintln(stderr, "explain: --service and --user are required, and nothing else may follow the options")
		fs.Usage()
		return cli.ExitUsage
	}
	if *auth != "" && *auth != "password" && *auth != "key" {
		fmt.Fprintf(stderr, "explain: --auth is password or key, not %q\n", *auth)
		return cli.ExitUsage
	}
	return Run(Options{Conf: *conf, SessionsFile: *sessionsFile, OPAAnswers: answers.all(),
		Login: rules.Login{Service: *service, User: *user, RHost: *rhost, Auth: rules.AuthKind(*auth), RUser: *ruser, TTY: *tty}},
		stdout, stderr)
}

// Run decides the login as the PAM module would and prints the decision
// on the first line, then why. Exit 0 OPEN, 1 CLOSE, 2 ASK, PIN or PINGPG
// (a person decides), 64 for a sessions file that cannot be read.
func Run(o Options, stdout, stderr io.Writer) int {
	login := o.Login
	if login.Auth == "" {
		login.Auth = rules.AuthNone
		if login.IsSSHD() {
			login.Auth = rules.AuthPassword
		}
	}
	if o.Users == nil {
		o.Users = nss.Users{}
	}
	if o.Groups == nil {
		o.Groups = nss.Groups{}
	}
	if o.Sessions == nil {
		o.Sessions = &logind.Client{}
	}
	if o.OPAAnswers == nil {
		o.OPAAnswers = map[string]string{} // explain answers every prompt itself
	}

	deps := rules.Deps{Groups: o.Groups, Sessions: o.Sessions}
	if o.SessionsFile != "" {
		sessions, err := readSessions(o.SessionsFile)
		if err != nil {
			fmt.Fprintf(stderr, "explain: %v\n", err)
			return cli.ExitUsage
		}
		deps.Sessions, deps.Approvals = sessions, sessions
	}

	cfg, _ := rules.Load(rules.LoadOptions{Path: o.Conf})
	// plugins run, but cannot ask anything: there is no user here to answer
	deps.Plugins = &plugin.Runner{Host: &starhost.Host{Log: func(int, string) {}}, Files: cfg.Plugins,
		Groups: deps.Groups, Sessions: deps.Sessions}
	// OPA is asked as the module would ask it, without the offline cache
	// (explain says what OPA answers now) and with --opa-answer's answers
	deps.OPA = &opa.Decider{Settings: cfg.Settings.OPA, ServerGroup: cfg.Settings.ServerGroup, Config: cfg.Fingerprint,
		Answers: o.OPAAnswers, Groups: deps.Groups, Sessions: deps.Sessions, Log: discard{}}
	// the module decides about the account NSS finds for the name
	var d rules.Decision
	if resolved, err := rules.ResolveUser(o.Users, login); err != nil {
		d = rules.Decision{Verdict: rules.Close, Err: err, Reason: err.Error()}
	} else {
		d = rules.Explain(context.Background(), cfg, resolved, deps)
	}
	printExplain(stdout, cfg, d)
	if n := countIgnored(cfg); n > 0 {
		fmt.Fprintf(stderr, "note: the config has %d problem(s) that change what it means; run pam-accesscontrol check-my-config\n", n)
	}
	switch d.Verdict {
	case rules.Open:
		return 0
	case rules.Ask, rules.Pin, rules.PinGPG, rules.Token:
		return 2 // up to a person: the desktop owner, the user with the mailed PIN or with a token
	}
	return 1
}
