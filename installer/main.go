// Command pam-accesscontrol is the admin's tool: it checks config files and
// scripts, explains decisions, and patches /etc/pam.d. Each verb is a
// package of its own (installer/checkconfig, explain, pamverbs, grants);
// this file names them.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/checkconfig"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/enroll"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/explain"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/grants"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamverbs"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/kubecred"
)

// exitUsage is returned for a command line that cannot be run (cli).
const exitUsage = cli.ExitUsage

// pam is the PAM verbs as they run on this system: dpkg or rpm names a
// file's package, libpam rehearses a new stack.
var pam = pamverbs.Commands{}

var verbs = []struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}{
	{"check-my-config", "[--json] [FILE…]  report every problem of the config, with file:line", checkconfig.Main},
	{"check-script", "[--interpreter PATH] FILE…  everything that keeps a pam_python script from running, with fixes", runCheckScript},
	{"pam-list", "[--pam-dir DIR] [--root DIR]  the PAM services, * marking those with pam-accesscontrol", pam.List},
	{"show-pam-config", "[SERVICE…]  pam-accesscontrol's lines in each service", pam.ShowConfig},
	{"show-pam-info", "SERVICE…  the package that ships each service file", pam.ShowInfo},
	{"pam-configure", "[--dry-run] [--tokens only|or-password|off] [SERVICE…]  add pam-accesscontrol to services (default: sshd, login, display managers)", pam.Configure},
	{"make-pam-clean", "[--dry-run] [SERVICE…]  remove exactly pam-accesscontrol's lines", pam.Clean},
	{"migrate-python", "[--interpreter PATH] [--dry-run] [SERVICE…]  run pam_python.so scripts through pam-accesscontrol's interpreter= instead", pam.MigratePython},
	{"ask-grants", "[--rundir DIR]  the hosts desktop owners allowed for hours (ASK_REMEMBER)", grants.List},
	{"ask-revoke", "--user USER | --host HOST | --all [--rundir DIR] [--conf FILE]  take such grants back", grants.Revoke},
	{"explain", "--conf FILE --service SVC --user USER [--rhost HOST] [--auth password|key] [--sessions FILE]\n" +
		"                   [--ruser USER] [--tty TTY] [--opa-answer KEY=VALUE]…\n" +
		"                   decide one login and show why", explain.Main},
	{"enroll", enroll.Usage, enroll.Main},
	{"serve", "[--listen ADDR] [--tls-cert FILE --tls-key FILE] [--web-service NAME] [--kube-service NAME]\n" +
		"                   [--signing-key FILE] [--issuer ISS] [--audience AUD] [--token-ttl D] [--trusted-proxy CIDR,…] [--pam-confdir DIR]\n" +
		"                   the HTTP login service (beesly's and pam_hook's APIs) through PAM (in progress)", serve.Main},
	{"kube-credential", "--server URL [--ca-file FILE] [--user NAME] [--token-expires-in MINUTES]\n" +
		"                   kubectl's exec credential plugin: a token from serve's GET /token, cached until it expires", kubecred.Main},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run finds the verb and runs it; help, or no verb, prints the verbs.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	for _, v := range verbs {
		if v.name == args[0] {
			return v.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "pam-accesscontrol: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pam-accesscontrol COMMAND [ARGS]")
	fmt.Fprintln(w, "commands:")
	for _, v := range verbs {
		fmt.Fprintf(w, "  %s %s\n", v.name, v.summary)
	}
}
