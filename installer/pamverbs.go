package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/sshdconf"
)

// defaultServices are what pam-configure offers with no service named:
// sshd, the console, and the display managers that are installed.
var defaultServices = []string{"sshd", "login", "gdm-password", "sddm", "lightdm", "xdm", "kdm", "slim", "lxdm"}

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

// runPamList is `pam-list`: every service, * marking those with our lines.
func runPamList(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("pam-list", stderr, false)
	if f.fs.Parse(args) != nil || f.fs.NArg() > 0 {
		return exitUsage
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

// runShowPamConfig is `show-pam-config [SERVICE…]`: our lines in each.
func runShowPamConfig(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("show-pam-config", stderr, false)
	if f.fs.Parse(args) != nil {
		return exitUsage
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

// runShowPamInfo is `show-pam-info SERVICE…`: the package that owns each
// service file and its description.
func runShowPamInfo(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("show-pam-info", stderr, false)
	if f.fs.Parse(args) != nil || f.fs.NArg() == 0 {
		fmt.Fprintln(stderr, "show-pam-info: name the services")
		return exitUsage
	}
	status := 0
	for _, s := range f.fs.Args() {
		path := filepath.Join(f.tree().Dir(), s)
		pkg, desc, err := owner(path)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: package %s\n%s\n", path, pkg, desc)
	}
	return status
}

// owner asks dpkg, or rpm, which package ships a file.
func owner(path string) (pkg, desc string, err error) {
	if _, err := exec.LookPath("dpkg-query"); err == nil {
		out, err := exec.Command("dpkg-query", "-S", path).Output()
		if err != nil {
			return "", "", fmt.Errorf("no installed package ships it")
		}
		pkg = strings.TrimSpace(strings.SplitN(string(out), ":", 2)[0])
		d, _ := exec.Command("dpkg-query", "-W", "-f=${Description}", pkg).Output()
		return pkg, string(d), nil
	}
	if _, err := exec.LookPath("rpm"); err == nil {
		out, err := exec.Command("rpm", "-qf", "--queryformat", "%{NAME}\n%{SUMMARY}", path).Output()
		if err != nil {
			return "", "", fmt.Errorf("no installed package ships it")
		}
		name, summary, _ := strings.Cut(string(out), "\n")
		return name, summary, nil
	}
	return "", "", fmt.Errorf("neither dpkg nor rpm is here")
}

// runPamConfigure is `pam-configure [--dry-run] [SERVICE…]`.
func runPamConfigure(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("pam-configure", stderr, true)
	if f.fs.Parse(args) != nil {
		return exitUsage
	}
	return editServices(f, stdout, stderr, func(t pamd.Tree, name string, text []byte) ([]byte, error) {
		if name == "sshd" {
			sshdNote(*f.root, stdout)
		}
		return pamd.Configure(name, text, t.Resolver())
	}, true)
}

// runPamClean is `make-pam-clean [--dry-run] [SERVICE…]`: with no service
// named, every service that has our lines.
func runPamClean(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("make-pam-clean", stderr, true)
	if f.fs.Parse(args) != nil {
		return exitUsage
	}
	return editServices(f, stdout, stderr, func(_ pamd.Tree, _ string, text []byte) ([]byte, error) {
		return pamd.Clean(text), nil
	}, false)
}

// runMigratePython is `migrate-python [--interpreter PATH] [--dry-run]
// [SERVICE…]`: pam_python.so script lines run their scripts in that
// Python through our module instead (interpreter=); with no service
// named, every service that has such a line. make-pam-clean undoes it.
func runMigratePython(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("migrate-python", stderr, true)
	interpreter := f.fs.String("interpreter", "/usr/bin/python3", "the Python to run the scripts in (an absolute path)")
	if f.fs.Parse(args) != nil {
		return exitUsage
	}
	if !filepath.IsAbs(*interpreter) || strings.ContainsAny(*interpreter, " \t") {
		fmt.Fprintf(stderr, "migrate-python: --interpreter %q must be an absolute path without blanks\n", *interpreter)
		return exitUsage
	}
	if _, err := os.Stat(filepath.Join(*f.root, *interpreter)); err != nil {
		fmt.Fprintf(stderr, "migrate-python: %v\n", err)
		return 1
	}
	return editServices(f, stdout, stderr, func(_ pamd.Tree, _ string, text []byte) ([]byte, error) {
		return pamd.MigratePython(text, *interpreter)
	}, false)
}

func editServices(f pamFlags, stdout, stderr io.Writer,
	edit func(t pamd.Tree, name string, text []byte) ([]byte, error), configure bool) int {
	verb := f.fs.Name()
	t := f.tree()
	services := f.fs.Args()
	if len(services) == 0 {
		all, err := t.Services()
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", verb, err)
			return 1
		}
		for _, s := range all {
			text, err := os.ReadFile(filepath.Join(t.Dir(), s))
			if err != nil {
				continue
			}
			switch {
			case configure && contains(defaultServices, s):
				services = append(services, s)
			case !configure:
				if changed, err := edit(t, s, text); err == nil && string(changed) != string(text) {
					services = append(services, s)
				}
			}
		}
		if len(services) == 0 {
			fmt.Fprintf(stdout, "%s: no service to change\n", verb)
			return 0
		}
	}
	status := 0
	for _, s := range services {
		file, err := t.Read(s)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", verb, err)
			status = 1
			continue
		}
		changed, err := edit(t, s, file.Text)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s: %v; nothing was changed\n", verb, file.Path, err)
			status = 1
			continue
		}
		if string(changed) == string(file.Text) {
			fmt.Fprintf(stdout, "%s: unchanged\n", file.Path)
			continue
		}
		if *f.dryRun {
			diff, err := pamd.Diff(file.Path, file.Text, changed)
			if err != nil {
				fmt.Fprintf(stderr, "%s: diff: %v\n", verb, err)
				status = 1
			}
			fmt.Fprint(stdout, diff)
			continue
		}
		if configure && (*f.root == "" || *f.root == "/") {
			if err := checkStack(t, s, changed); err != nil {
				fmt.Fprintf(stderr, "%s: %s: %v\n", verb, file.Path, err)
				status = 1
				continue
			}
		}
		backup, err := t.Write(file, changed)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s: %v; nothing was changed\n", verb, file.Path, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: changed (the old file is %s)\n", file.Path, backup)
	}
	return status
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
