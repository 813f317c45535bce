package pamverbs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
)

// List is `pam-list`: every service, * marking those with our lines.
func (c Commands) List(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("pam-list", stderr, false)
	if f.fs.Parse(args) != nil || f.fs.NArg() > 0 {
		return cli.ExitUsage
	}
	t := f.tree()
	services, err := t.Services()
	if err != nil {
		fmt.Fprintf(stderr, "pam-list: %v\n", err)
		return 1
	}
	for _, s := range services {
		mark := " "
		if text, err := os.ReadFile(filepath.Join(t.Dir(), s)); err == nil && len(pamd.Configured(text)) > 0 {
			mark = "*"
		}
		fmt.Fprintf(stdout, "%s %s\n", mark, s)
	}
	fmt.Fprintln(stdout, "(* has pam-accesscontrol)")
	return 0
}
