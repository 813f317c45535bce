package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/opa"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// runExplain is `explain`: it decides one login as the PAM module would
// and prints the decision on the first line, then why. Exit 0 OPEN,
// 1 CLOSE, 2 ASK, PIN or PINGPG (a person decides).
func runExplain(args []string, stdout, stderr io.Writer) int {
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
		return exitUsage
	}
	if fs.NArg() > 0 || *service == "" || *user == "" {
		fmt.Fprintln(stderr, "explain: --service and --user are required, and nothing else may follow the options")
		fs.Usage()
		return exitUsage
	}
	login := rules.Login{Service: *service, User: *user, RHost: *rhost, Auth: rules.AuthNone, RUser: *ruser, TTY: *tty}
	switch {
	case *auth == "password" || *auth == "key":
		login.Auth = rules.AuthKind(*auth)
	case *auth != "":
		fmt.Fprintf(stderr, "explain: --auth is password or key, not %q\n", *auth)
		return exitUsage
	case login.IsSSHD():
		login.Auth = rules.AuthPassword
	}

	deps := rules.Deps{Groups: nss.Groups{}, Sessions: &logind.Client{}}
	if *sessionsFile != "" {
		sessions, err := readSessions(*sessionsFile)
		if err != nil {
			fmt.Fprintf(stderr, "explain: %v\n", err)
			return exitUsage
		}
		deps.Sessions, deps.Approvals = sessions, sessions
	}

	cfg, _ := rules.Load(rules.LoadOptions{Path: *conf})
	// plugins run, but cannot ask anything: there is no user here to answer
	deps.Plugins = &starhost.Plugins{Host: &starhost.Host{Log: func(int, string) {}}, Files: cfg.Plugins,
		Groups: deps.Groups, Sessions: deps.Sessions}
	// OPA is asked as the module would ask it, without the offline cache
	// (explain says what OPA answers now) and with --opa-answer's answers
	deps.OPA = &opa.Decider{Settings: cfg.Settings.OPA, Config: cfg.Fingerprint, Answers: answers.all(),
		Groups: deps.Groups, Sessions: deps.Sessions, Log: discard{}}
	// the module decides about the account NSS finds for the name
	var d rules.Decision
	if resolved, err := rules.ResolveUser(nss.Users{}, login); err != nil {
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
	case rules.Ask, rules.Pin, rules.PinGPG:
		return 2 // up to a person: the desktop owner, or the user with the mailed PIN
	}
	return 1
}

func printExplain(w io.Writer, cfg *rules.Config, d rules.Decision) {
	fmt.Fprintln(w, d.Verdict)
	switch {
	case d.Rule != nil:
		fmt.Fprintf(w, "decided by: %s  %s\n", d.Rule.Pos, d.Rule.Text)
	case d.Broken != nil:
		fmt.Fprintf(w, "decided by: %s  %s  (a broken line: %s is refused until it is fixed)\n",
			d.Broken.Pos, lineCache{}.get(d.Broken.Pos), d.Broken.Locks.Scope())
	case d.Err != nil:
		fmt.Fprintln(w, "decided by: an error; the login fails closed")
	case cfg.Settings.DefaultPos.IsZero():
		fmt.Fprintf(w, "decided by: the built-in DEFAULT:%s\n", cfg.Settings.Default)
	default:
		fmt.Fprintf(w, "decided by: %s  DEFAULT:%s\n", cfg.Settings.DefaultPos, cfg.Settings.Default)
	}
	if d.Verdict.Pending() {
		fmt.Fprintf(w, "reason: %s; %s\n", printable(d.Reason), d.Verdict.Note())
	} else {
		fmt.Fprintf(w, "reason: %s\n", printable(d.Reason))
	}
	fmt.Fprintln(w, "trace:")
	width := 0
	for _, s := range d.Trace {
		if n := len(s.Pos.String()); !s.Pos.IsZero() && n > width {
			width = n
		}
	}
	for _, s := range d.Trace {
		pos := ""
		if !s.Pos.IsZero() {
			pos = s.Pos.String()
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, pos, printable(s.Text))
	}
}

func countIgnored(cfg *rules.Config) int {
	n := 0
	for _, p := range cfg.Problems {
		if p.Severity == rules.Ignored {
			n++
		}
	}
	return n
}

// opaAnswers are explain's --opa-answer KEY=VALUE flags: what the user
// would type at OPA's prompts, by the prompt's key in display_spec.
type opaAnswers struct {
	byKey map[string]string
}

func (a *opaAnswers) String() string { return "" }

// all is never nil: explain answers every prompt itself, "" by default.
func (a *opaAnswers) all() map[string]string {
	if a.byKey == nil {
		return map[string]string{}
	}
	return a.byKey
}

func (a *opaAnswers) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, not %q", s)
	}
	if a.byKey == nil {
		a.byKey = map[string]string{}
	}
	a.byKey[k] = v
	return nil
}

// discard is an opa.Logger for explain: what OPA's exchange logs is in the
// trace already.
type discard struct{}

func (discard) Info(string, ...any)  {}
func (discard) Error(string, ...any) {}
