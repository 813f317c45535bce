// Package grants is `pam-accesscontrol ask-grants` and `ask-revoke`: the
// hosts desktop owners allowed for hours (ASK_REMEMBER), and taking them
// back.
package grants

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// List is `ask-grants [--rundir DIR]`: what desktop owners allowed
// for hours (ASK_REMEMBER), soonest to end first.
func List(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ask-grants", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runDir := fs.String("rundir", loginstate.DefaultDir, "the module's run directory (rundir=)")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return cli.ExitUsage
	}
	store, err := loginstate.Open(*runDir, nil)
	if err != nil {
		fmt.Fprintf(stderr, "ask-grants: %v\n", err)
		return 1
	}
	grants, err := store.Grants()
	if err != nil {
		fmt.Fprintf(stderr, "ask-grants: %v\n", err)
		return 1
	}
	if len(grants) == 0 {
		fmt.Fprintln(stdout, "no grants")
		return 0
	}
	for _, g := range grants {
		fmt.Fprintf(stdout, "%s from %s: allowed by %s (uid %d) until %s\n", logging.Quote(g.User), logging.Quote(g.RHost),
			logging.Quote(g.OwnerName), g.OwnerUID, g.Until.Local().Format("2006-01-02 15:04"))
	}
	return 0
}

// Revoke is `ask-revoke [--user USER] [--host HOST] [--all]`: the
// grants of USER, or from HOST, or both, or all, taken back at once; each
// in the log and the audit trail (AUDIT_LOG of --conf).
func Revoke(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ask-revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runDir := fs.String("rundir", loginstate.DefaultDir, "the module's run directory (rundir=)")
	conf := fs.String("conf", "", "the rules file whose AUDIT_LOG gets the revocations (default: the installed one)")
	user := fs.String("user", "", "revoke the grants of this user")
	host := fs.String("host", "", "revoke the grants for this remote host")
	all := fs.Bool("all", false, "revoke every grant")
	if fs.Parse(args) != nil || fs.NArg() > 0 || (*user == "" && *host == "") == !*all {
		fmt.Fprintln(stderr, "ask-revoke: name --user, --host (or both), or --all")
		return cli.ExitUsage
	}
	store, err := loginstate.Open(*runDir, nil)
	if err != nil {
		fmt.Fprintf(stderr, "ask-revoke: %v\n", err)
		return 1
	}
	revoked, err := store.RevokeGrants(func(g loginstate.Grant) bool {
		return *all || (*user == "" || g.User == *user) && (*host == "" || g.RHost == *host)
	})
	log := logging.Open()
	defer log.Close()
	var events []audit.Event
	for _, g := range revoked {
		fmt.Fprintf(stdout, "revoked: %s from %s, allowed by %s until %s\n", logging.Quote(g.User), logging.Quote(g.RHost),
			logging.Quote(g.OwnerName), g.Until.Local().Format("2006-01-02 15:04"))
		log.Info("ask-revoke: revoked the grant of %s from %s by %s (uid %d), until %s", logging.Quote(g.User), logging.Quote(g.RHost),
			logging.Quote(g.OwnerName), g.OwnerUID, g.Until.Format(time.RFC3339))
		events = append(events, audit.Event{Kind: audit.AskRevoke, Time: time.Now(), User: g.User, RHost: g.RHost, Service: "sshd",
			Login: g.LoginID, Reason: fmt.Sprintf("revoked by uid %d: allowed by %s until %s", os.Getuid(), g.OwnerName, g.Until.Format(time.RFC3339))})
	}
	if len(revoked) == 0 && err == nil {
		fmt.Fprintln(stdout, "no grant matched")
	}
	if cfg, _ := rules.Load(rules.LoadOptions{Path: *conf}); len(events) > 0 && cfg != nil && cfg.Settings.AuditLog != "" {
		if aerr := audit.AppendFile(cfg.Settings.AuditLog, events...); aerr != nil {
			fmt.Fprintf(stderr, "ask-revoke: the audit log: %v\n", aerr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ask-revoke: %v\n", err)
		return 1
	}
	return 0
}
