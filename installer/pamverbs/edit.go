package pamverbs

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
)

// Configure is `pam-configure [--dry-run] [--tokens only|or-password|off]
// [SERVICE…]`; options may follow the services.
func (c Commands) Configure(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("pam-configure", stderr, true)
	tokens := f.fs.String("tokens", "", "single sign-on tokens for the users TOKEN rules name: only, or-password, or off (pamd/tokens.go)")
	if parseInterspersed(f.fs, args) != nil {
		return cli.ExitUsage
	}
	switch *tokens {
	case "", pamd.TokensOnly, pamd.TokensOrPassword, pamd.TokensOff:
	default:
		fmt.Fprintf(stderr, "pam-configure: --tokens %q: want only, or-password or off\n", *tokens)
		return cli.ExitUsage
	}
	// serve's services (web, kubernetes) that are not there are written
	// whole; the rest, and those that are, get our lines
	named, status := c.createServeStacks(f, stdout, stderr)
	if len(f.fs.Args()) > 0 && len(named) == 0 {
		return status
	}
	return max(status, c.editServices(f, named, stdout, stderr, func(t pamd.Tree, name string, text []byte) ([]byte, error) {
		if name == "sshd" {
			sshdNote(*f.root, stdout)
		}
		// serve runs auth and account only: with both, a service of
		// serve's needs no session line
		if have := pamd.Configured(text); pamd.IsServeStack(name) && have["auth"] && have["account"] {
			return text, nil
		}
		if *tokens != "" {
			return pamd.ConfigureTokens(name, text, t.Resolver(), *tokens)
		}
		return pamd.Configure(name, text, t.Resolver())
	}, true))
}

// parseInterspersed parses fs's options wherever they stand among the
// operands (pam-configure sshd --tokens only), leaving the operands as
// fs.Args().
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			operands = append(operands, rest...) // after --, all operands
			break
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, operands...))
}

// Clean is `make-pam-clean [--dry-run] [SERVICE…]`: with no service
// named, every service that has our lines.
func (c Commands) Clean(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("make-pam-clean", stderr, true)
	if f.fs.Parse(args) != nil {
		return cli.ExitUsage
	}
	// serve's services as pam-configure wrote them go whole
	named, status := removeServeStacks(f, stdout, stderr)
	if len(f.fs.Args()) > 0 && len(named) == 0 {
		return status
	}
	return max(status, c.editServices(f, named, stdout, stderr, func(_ pamd.Tree, _ string, text []byte) ([]byte, error) {
		return pamd.Clean(text), nil
	}, false))
}

// MigratePython is `migrate-python [--interpreter PATH] [--dry-run]
// [SERVICE…]`: pam_python.so script lines run their scripts in that
// Python through our module instead (interpreter=); with no service
// named, every service that has such a line. make-pam-clean undoes it.
func (c Commands) MigratePython(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("migrate-python", stderr, true)
	interpreter := f.fs.String("interpreter", "/usr/bin/python3", "the Python to run the scripts in (an absolute path)")
	if f.fs.Parse(args) != nil {
		return cli.ExitUsage
	}
	if !filepath.IsAbs(*interpreter) || strings.ContainsAny(*interpreter, " \t") {
		fmt.Fprintf(stderr, "migrate-python: --interpreter %q must be an absolute path without blanks\n", *interpreter)
		return cli.ExitUsage
	}
	if _, err := os.Stat(filepath.Join(*f.root, *interpreter)); err != nil {
		fmt.Fprintf(stderr, "migrate-python: %v\n", err)
		return 1
	}
	return c.editServices(f, f.fs.Args(), stdout, stderr, func(_ pamd.Tree, _ string, text []byte) ([]byte, error) {
		return pamd.MigratePython(text, *interpreter)
	}, false)
}

// editServices applies edit to the services named (those of the command
// line that are left to edit) or, with none named, to the default services (configure) or to every
// service edit would change. Each file is changed on its own: a service
// that cannot be read, edited, rehearsed or written is reported and left
// as it was, and the others go on; with --dry-run each change is printed
// as a diff instead.
func (c Commands) editServices(f pamFlags, named []string, stdout, stderr io.Writer,
	edit func(t pamd.Tree, name string, text []byte) ([]byte, error), configure bool) int {
	verb := f.fs.Name()
	t := f.tree()
	services := named
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
			case configure && slices.Contains(defaultServices, s):
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
			if err := c.checkStack()(t, s, changed); err != nil {
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
