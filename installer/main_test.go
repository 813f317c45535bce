package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun: the verb is found and given the rest of the command line; help
// lists every verb; anything else is a usage error.
func TestRun(t *testing.T) {
	for _, tt := range []struct {
		args           []string
		code           int
		stdout, stderr string // held by the output
	}{
		{nil, exitUsage, "usage: pam-accesscontrol COMMAND [ARGS]", ""},
		{[]string{"help"}, 0, "  explain --conf FILE", ""},
		{[]string{"--help"}, 0, "  check-my-config [--json]", ""},
		{[]string{"no-such-verb"}, exitUsage, "", "pam-accesscontrol: unknown command \"no-such-verb\"\nusage:"},
		// each verb gets its own arguments: a flag it does not know
		{[]string{"check-my-config", "--colour"}, exitUsage, "", "flag provided but not defined: -colour"},
		{[]string{"check-script"}, exitUsage, "", "check-script: name the scripts to check"},
		{[]string{"pam-list", "sshd"}, exitUsage, "", ""},
		{[]string{"show-pam-info"}, exitUsage, "", "show-pam-info: name the services"},
		{[]string{"pam-configure", "--force"}, exitUsage, "", "-force"},
		{[]string{"make-pam-clean", "--force"}, exitUsage, "", "-force"},
		{[]string{"migrate-python", "--interpreter", "python3"}, exitUsage, "", "must be an absolute path"},
		{[]string{"ask-grants", "extra"}, exitUsage, "", ""},
		{[]string{"ask-revoke"}, exitUsage, "", "ask-revoke: name --user, --host (or both), or --all"},
		{[]string{"explain", "--user", "alice"}, exitUsage, "", "explain: --service and --user are required"},
	} {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) {
			t.Errorf("%q: exit %d\nstdout %s\nstderr %s", tt.args, code, out.String(), errOut.String())
		}
	}
	var out bytes.Buffer
	run([]string{"help"}, &out, &out)
	for _, v := range verbs {
		if !strings.Contains(out.String(), "\n  "+v.name+" ") {
			t.Errorf("help lacks %s:\n%s", v.name, out.String())
		}
	}
}
