package pamverbs

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
)

// ShowInfo is `show-pam-info SERVICE…`: the package that owns each
// service file and its description.
func (c Commands) ShowInfo(args []string, stdout, stderr io.Writer) int {
	f := newPamFlags("show-pam-info", stderr, false)
	if f.fs.Parse(args) != nil || f.fs.NArg() == 0 {
		fmt.Fprintln(stderr, "show-pam-info: name the services")
		return cli.ExitUsage
	}
	status := 0
	for _, s := range f.fs.Args() {
		path := filepath.Join(f.tree().Dir(), s)
		pkg, desc, err := c.owner()(path)
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
