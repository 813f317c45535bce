package pamverbs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/sshdconf"
)

// ShowConfig is `show-pam-config [SERVICE…]`: our lines in each.
func (c Commands) ShowConfig(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("show-pam-config", stderr, false)
	if f.fs.Parse(args) != nil {
		return cli.ExitUsage
	}
	t := f.tree()
	services := f.fs.Args()
	if len(services) == 0 {
		var err error
		if services, err = t.Services(); err != nil {
			fmt.Fprintf(stderr, "show-pam-config: %v\n", err)
			return 1
		}
	}
	status := 0
	for _, s := range services {
		text, err := os.ReadFile(filepath.Join(t.Dir(), s))
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", s, err)
			continue
		}
		for i, l := range strings.Split(string(text), "\n") {
			if strings.Contains(l, "pam_accesscontrol.so") || strings.Contains(l, "accesscontrol.py") {
				fmt.Fprintf(stdout, "%s:%d: %s\n", s, i+1, l)
			}
		}
		if d := pamd.DescribeTokens(text); d != "" {
			fmt.Fprintf(stdout, "%s: %s\n", s, d)
		}
		// an admin's edit may have put a line of ours where the stack can
		// skip it: then it protects nothing
		skips, err := pamd.Skippable(s, text, t.Resolver())
		if err != nil {
			fmt.Fprintf(stdout, "%s: warning: the stack cannot be followed: %v\n", s, err)
			status = 1
		}
		for _, e := range skips {
			fmt.Fprintf(stdout, "%s:%d: warning: %v\n", s, e.Line, e)
			status = 1
		}
		if s == "sshd" && sshdNote(*f.root, stdout) {
			status = 1
		}
		if serveNote(s, text, stdout) {
			status = 1
		}
	}
	return status
}

// sshdNote tells whether sshd runs its PAM lines at all (UsePAM), and
// that it needs no other setting; true when that is a warning.
func sshdNote(root string, stdout io.Writer) bool {
	if root == "" {
		root = "/"
	}
	text, warn := sshdconf.Note(root)
	if text != "" {
		fmt.Fprintln(stdout, text)
	}
	return warn
}
