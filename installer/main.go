// Command pam-accesscontrol is the admin's tool: it checks config files and
// explains decisions (and, later, patches /etc/pam.d).
package main

import (
	"fmt"
	"io"
	"os"
)

// exitUsage is returned for a command line that cannot be run. It is not 0,
// 1 or 2, which explain uses for OPEN, CLOSE and ASK.
const exitUsage = 64

var verbs = []struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}{
	{"check-my-config", "[--json] [FILE…]  report every problem of the config, with file:line", runCheck},
	{"check-script", "[--interpreter PATH] FILE…  everything that keeps a pam_python script from running, with fixes", runCheckScript},
	{"pam-list", "[--pam-dir DIR] [--root DIR]  the PAM services, * marking those with pam-accesscontrol", runPamList},
	{"show-pam-config", "[SERVICE…]  pam-accesscontrol's lines in each service", runShowPamConfig},
	{"show-pam-info", "SERVICE…  the package that ships each service file", runShowPamInfo},
	{"pam-configure", "[--dry-run] [SERVICE…]  add pam-accesscontrol to services (default: sshd, login, display managers)", runPamConfigure},
	{"make-pam-clean", "[--dry-run] [SERVICE…]  remove exactly pam-accesscontrol's lines", runPamClean},
	{"migrate-python", "[--interpreter PATH] [--dry-run] [SERVICE…]  run pam_python.so scripts through pam-accesscontrol's interpreter= instead", runMigratePython},
	{"ask-grants", "[--rundir DIR]  the hosts desktop owners allowed for hours (ASK_REMEMBER)", runAskGrants},
	{"ask-revoke", "--user USER | --host HOST | --all [--rundir DIR] [--conf FILE]  take such grants back", runAskRevoke},
	{"explain", "--conf FILE --service SVC --user USER [--rhost HOST] [--auth password|key] [--sessions FILE]\n" +
		"                   [--ruser USER] [--tty TTY] [--opa-answer KEY=VALUE]…\n" +
		"                   decide one login and show why", runExplain},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

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
