// Package checkconfig is `pam-accesscontrol check-my-config`: every
// problem of the config, of the mail files beside it and of the files its
// settings name, each with file:line, before a login meets it.
package checkconfig

import (
	"cmp"
	"encoding/json"
	"flag"
	"io"
	"path/filepath"
	"slices"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// Options are one check-my-config run.
type Options struct {
	// Files are checked each alone, without drop-ins; none checks the
	// main config and its drop-ins, as the PAM module reads them.
	Files []string
	// JSON prints the report as JSON (Report) rather than as text.
	JSON bool
}

// Main is `check-my-config [--json] [FILE…]`: its command line, then Run.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-my-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return cli.ExitUsage
	}
	return Run(Options{Files: fs.Args(), JSON: *asJSON}, stdout)
}

// Run checks and prints the report. Exit 0 when there is nothing to
// report, 1 otherwise.
func Run(o Options, stdout io.Writer) int {
	report := Check(o.Files)
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(report)
	} else {
		report.Print(stdout)
	}
	if report.OK {
		return 0
	}
	return 1
}

// Check loads each config as the module would and reports its problems
// and everything the module would meet only at a login: services that do
// not exist, plugins that do not load, files settings name, PIN and OPA
// setups that cannot work, host names in HOST lists, and (for the main
// config) the mail files beside it.
func Check(files []string) Report {
	var cfgs []*rules.Config
	if len(files) == 0 {
		cfg, _ := rules.Load(rules.LoadOptions{})
		cfgs = append(cfgs, cfg)
	}
	for _, f := range files {
		cfg, _ := rules.Load(rules.LoadOptions{Path: f, NoDropIns: true})
		cfgs = append(cfgs, cfg)
	}

	report := Report{Files: []string{}, Problems: []Problem{}}
	lines := cli.Lines{}
	for _, cfg := range cfgs {
		report.Files = append(report.Files, cfg.Files...)
		report.Rules += len(cfg.Rules)
		problems := append(slices.Clone(cfg.Problems), lintServices(cfg)...)
		problems = append(problems, checkPlugins(cfg)...)
		problems = append(problems, checkSettingFiles(cfg)...)
		problems = append(problems, checkPinSetup(cfg)...)
		problems = append(problems, checkHostNames(cfg)...)
		problems = append(problems, checkOPASetup(cfg)...)
		problems = append(problems, checkOIDCSetup(cfg)...)
		slices.SortStableFunc(problems, func(a, b rules.Problem) int {
			return cmp.Compare(fileIndex(cfg, a.Pos.File), fileIndex(cfg, b.Pos.File))*2 +
				cmp.Compare(a.Pos.Line, b.Pos.Line)
		})
		if len(files) == 0 || filepath.Base(cfg.Files[0]) == filepath.Base(rules.DefaultPath) {
			mailFiles, mailProblems := checkMailFiles(cfg)
			report.Files = append(report.Files, mailFiles...)
			problems = append(problems, mailProblems...)
		}
		for _, p := range problems {
			cp := Problem{File: p.Pos.File, Line: p.Pos.Line, Severity: p.Label(), Message: p.Text(), Text: lines.Get(p.Pos)}
			if p.Locks != nil {
				cp.Refuses = p.Locks.Scope()
			}
			report.Problems = append(report.Problems, cp)
		}
	}
	report.OK = len(report.Problems) == 0
	return report
}

// fileIndex orders problems by the order the files were read.
func fileIndex(cfg *rules.Config, file string) int {
	if i := slices.Index(cfg.Files, file); i >= 0 {
		return i
	}
	return len(cfg.Files)
}
