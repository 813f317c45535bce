package pamverbs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
)

// createServeStacks writes the services of pam-accesscontrol serve (web,
// kubernetes) named on the command line that are not there yet
// (pamd.ServeStack): rehearsed first on the live system, as pam-configure
// rehearses every change there; --dry-run prints them. It returns the
// services named that are left for editing (the others, and serve's
// services that are there: an admin's own web stack gets our lines like
// any other) and its exit status.
func (c Commands) createServeStacks(f pamFlags, stdout, stderr io.Writer) (rest []string, status int) {
	t := f.tree()
	for _, s := range f.fs.Args() {
		text, ok := pamd.ServeStack(s)
		if !ok {
			rest = append(rest, s)
			continue
		}
		path := filepath.Join(t.Dir(), s)
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			rest = append(rest, s)
			continue
		}
		if *f.dryRun {
			diff, err := pamd.Diff(path, nil, text)
			if err != nil {
				fmt.Fprintf(stderr, "pam-configure: diff: %v\n", err)
				status = 1
			}
			fmt.Fprint(stdout, diff)
			continue
		}
		if *f.root == "" || *f.root == "/" {
			if err := c.checkStack()(t, s, text); err != nil {
				fmt.Fprintf(stderr, "pam-configure: %s: %v\n", path, err)
				status = 1
				continue
			}
		}
		if _, err := t.Create(s, text); err != nil {
			fmt.Fprintf(stderr, "pam-configure: %s: %v; nothing was written\n", path, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: written (pam_unix and pam-accesscontrol's rules, for pam-accesscontrol serve)\n", path)
	}
	return rest, status
}

// removeServeStacks removes serve's services that are exactly as
// pam-configure wrote them, among those named or, with none named, among
// all: without our lines such a file would let serve's logins in on a
// password alone, and it was ours to begin with. One an admin changed
// only loses our lines (editServices). It returns the services named that
// are left for editing and its exit status.
func removeServeStacks(f pamFlags, stdout, stderr io.Writer) (rest []string, status int) {
	t := f.tree()
	candidates := f.fs.Args()
	if len(candidates) == 0 {
		candidates = []string{"web", "kubernetes"}
	}
	for _, s := range candidates {
		ours, ok := pamd.ServeStack(s)
		if !ok {
			rest = append(rest, s)
			continue
		}
		file, err := t.Read(s)
		if err != nil || !bytes.Equal(file.Text, ours) {
			if len(f.fs.Args()) > 0 {
				rest = append(rest, s) // editServices reports or cleans it
			}
			continue
		}
		if *f.dryRun {
			diff, err := pamd.Diff(file.Path, file.Text, nil)
			if err != nil {
				fmt.Fprintf(stderr, "make-pam-clean: diff: %v\n", err)
				status = 1
			}
			fmt.Fprint(stdout, diff)
			continue
		}
		backup, err := t.Remove(file)
		if err != nil {
			fmt.Fprintf(stderr, "make-pam-clean: %s: %v; nothing was changed\n", file.Path, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: removed, as pam-configure %s wrote it (the old file is %s)\n", file.Path, s, backup)
	}
	return rest, status
}

// serveNote warns when a service of serve's runs without our module in
// a phase serve runs (auth, account): serve's logins through it would
// skip the rules there. true when that is a warning.
func serveNote(service string, text []byte, stdout io.Writer) bool {
	if !pamd.IsServeStack(service) {
		return false
	}
	have := pamd.Configured(text)
	warn := false
	for _, typ := range []string{"auth", "account"} {
		if !have[typ] {
			fmt.Fprintf(stdout, "%s: warning: no %s line of pam-accesscontrol: pam-accesscontrol serve's logins through this service skip the rules there (pam-accesscontrol pam-configure %s)\n",
				service, typ, service)
			warn = true
		}
	}
	return warn
}
