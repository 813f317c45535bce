// Package pamverbs is the pam-accesscontrol command's verbs on the PAM
// configuration: pam-list, show-pam-config and show-pam-info look,
// pam-configure, make-pam-clean and migrate-python change service files
// (through installer/pamd, which edits the stacks and writes them).
package pamverbs

import (
	"flag"
	"io"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
)

// Commands are the verbs, each taking its command line and returning its
// exit status. The zero value is the real thing.
type Commands struct {
	// Owner names the package that ships a file and describes it
	// (show-pam-info); nil asks dpkg, or rpm.
	Owner func(path string) (pkg, desc string, err error)
	// CheckStack rehearses a service file pam-configure is about to write
	// on the live system; nil runs it through real libpam (checkStack).
	CheckStack func(t pamd.Tree, service string, text []byte) error
}

func (c Commands) owner() func(string) (string, string, error) {
	if c.Owner != nil {
		return c.Owner
	}
	return owner
}

func (c Commands) checkStack() func(pamd.Tree, string, []byte) error {
	if c.CheckStack != nil {
		return c.CheckStack
	}
	return checkStack
}

// defaultServices are what pam-configure offers with no service named:
// sshd, the console, and the display managers that are installed.
var defaultServices = []string{"sshd", "login", "gdm-password", "sddm", "lightdm", "xdm", "kdm", "slim", "lxdm"}

// pamFlags are the options every verb takes: where the tree is, and for
// the verbs that change it, --dry-run.
type pamFlags struct {
	fs     *flag.FlagSet
	pamDir *string
	root   *string
	dryRun *bool
}

func newPamFlags(name string, stderr io.Writer, withDryRun bool) pamFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := pamFlags{fs: fs,
		pamDir: fs.String("pam-dir", "", "the PAM directory (default /etc/pam.d)"),
		root:   fs.String("root", "", "work on the tree under this directory (an image), not the live system")}
	if withDryRun {
		f.dryRun = fs.Bool("dry-run", false, "print the change as a unified diff; write nothing")
	}
	return f
}

func (f pamFlags) tree() pamd.Tree { return pamd.Tree{Root: *f.root, PamDir: *f.pamDir} }
