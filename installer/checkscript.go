package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// runCheckScript is `check-script FILE…`: what in each pam_python script
// is outside the supported subset, with its line and how to port it. Exit 0
// when every script runs as it is, 1 otherwise.
func runCheckScript(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-script", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "check-script: name the scripts to check")
		return exitUsage
	}
	status := 0
	for _, path := range fs.Args() {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			status = 1
			continue
		}
		findings, err := starhost.CheckScript(path, src)
		for _, f := range findings {
			fmt.Fprintf(stdout, "%s:%d: %s: %s\n", path, f.Line, f.What, f.Hint)
		}
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "%s: %v: %d thing(s) to port\n", path, err, len(findings))
			status = 1
		case len(findings) > 0:
			fmt.Fprintf(stdout, "%s: compiles, but check the lines above\n", path)
			status = 1
		default:
			fmt.Fprintf(stdout, "%s: OK, runs as it is\n", path)
		}
	}
	return status
}
