package test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// opaRules is a rules file handing sshd logins to OPA.
func opaRules(url string, settings ...string) string {
	return fmt.Sprintf("DEFAULT:CLOSE\nOPA_URL:%s\n%s\nSSHD OPA GROUP ALL\n", url, strings.Join(settings, "\n"))
}

// pamAuthzSettings are pam_authz's README module line as settings:
// url=… authz_endpoint=/v1/data/sshd/authz display_endpoint=/v1/data/display
// pull_endpoint=/v1/data/pull, and the pulled file allowed.
var pamAuthzSettings = []string{"OPA_AUTHZ:/v1/data/sshd/authz", "OPA_DISPLAY:/v1/data/display", "OPA_PULL:/v1/data/pull",
	"OPA_PULL_FILES:/etc/host_identity.json"}

// TestOPAPamAuthzExample: pam_authz's README example, its policies as
// written there (pre-1.0 Rego, OPA's --v0-compatible) and in Rego 1.0,
// through the real module and libpam: the greeting, two prompts,
// /etc/host_identity.json pulled, user ops only. Allowed exactly when its
// README says: ops, "ramesh" and "suresh", on host "frontend".
func TestOPAPamAuthzExample(t *testing.T) {
	for _, syntax := range []string{"v0", "v1"} {
		t.Run(syntax, func(t *testing.T) {
			args := []string{filepath.Join("testdata/opa", syntax)}
			if syntax == "v0" {
				// OPA 1.x refuses the README's Rego without the flag
				out, err := exec.Command(opaTool(t), "check", args[0]).CombinedOutput()
				if err == nil || !strings.Contains(string(out), "`if` keyword is required") {
					t.Fatalf("opa check without --v0-compatible: %v\n%s", err, out)
				}
				args = append([]string{"--v0-compatible"}, args...)
			}
			o := startOPA(t, "", args...)
			etc := newOPAEtc(t, "frontend")
			s := newPAMStack(t, opaRules(o.URL, pamAuthzSettings...))
			const typedSecret = "typed-s3cret-4d1e"
			tests := []struct {
				name, user, stdin, hostID string
				code                      int
				log                       string
			}{
				{"ops with both answers on frontend", "ops", "ramesh\nsuresh\n", "frontend", 0, "OPEN for \"ops\""},
				{"a wrong secret", "ops", "ramesh\n" + typedSecret + "\n", "frontend", 1, "You cannot pass!"},
				{"a wrong last name", "ops", "smith\nsuresh\n", "frontend", 1, "You cannot pass!"},
				{"another user", "dev", "ramesh\nsuresh\n", "frontend", 1, "You cannot pass!"},
				{"another host", "ops", "ramesh\nsuresh\n", "backend", 1, "You cannot pass!"},
				{"no host identity", "ops", "ramesh\nsuresh\n", "", 1, "You cannot pass!"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					etc.setHostID(t, tt.hostID)
					mark := sink.Mark()
					out, code, _ := etc.pamtester(t, s, tt.stdin, []string{"rhost=192.0.2.10"}, tt.user, "authenticate", "acct_mgmt")
					if code != tt.code {
						t.Fatalf("exit %d, want %d\n%s\nlog:\n%s", code, tt.code, out, strings.Join(sink.Since(mark), "\n"))
					}
					for _, want := range []string{"Welcome to the OPA-PAM demonstration.", "Please enter your last name: ", "Please enter your secret: "} {
						if !strings.Contains(out, want) {
							t.Errorf("the conversation lacks %q:\n%s", want, out)
						}
					}
					log := strings.Join(sink.Since(mark), "\n")
					if !strings.Contains(log, tt.log) {
						t.Errorf("log lacks %q:\n%s", tt.log, log)
					}
					if strings.Contains(log, typedSecret) || strings.Contains(log, "suresh") {
						t.Errorf("an echo-off answer reached the log:\n%s", log)
					}
				})
			}
		})
	}
}

// TestOPASSHD: a real sshd, in the private /etc where ops exists, hands
// its keyboard-interactive logins to OPA with pam_authz's README policies
// (Rego 1.0): the user types the password (pam_matrix), then OPA's two
// prompts, after its greeting, through sshd's keyboard-interactive
// conversation in its forked child; the session opens with the decision
// of auth. A wrong secret is refused.
func TestOPASSHD(t *testing.T) {
	o := startOPA(t, "", "testdata/opa/v1")
	etc := newOPAEtc(t, "frontend")
	s := startSSHDWith(t, sshdSetup{prefix: etc.prefix})
	s.setRules(t, opaRules(o.URL, pamAuthzSettings...))
	ok, out := s.loginKbdintAs(t, "ops", "Password:", "secret", "Please enter your last name:", "ramesh",
		"Please enter your secret:", "suresh")
	if !ok || !strings.Contains(out, "Welcome to the OPA-PAM demonstration.") {
		t.Fatalf("ops with the right answers was not let in, or not greeted:\n%s", out)
	}
	mark := sink.Mark()
	ok, out = s.loginKbdintAs(t, "ops", "Password:", "secret", "Please enter your last name:", "ramesh",
		"Please enter your secret:", "wrong-4711")
	if ok || len(grep(sink.Since(mark), "You cannot pass!")) == 0 || len(grep(sink.Since(mark), "wrong-4711")) > 0 {
		t.Fatalf("ops with a wrong secret: let in %v, or OPA's refusal not logged, or the secret logged:\n%s\n%s",
			ok, out, strings.Join(sink.Since(mark), "\n"))
	}
}

// TestOPAExplain: explain asks the real OPA as the module would, shows the
// input it sent with the echo-off answer masked, and OPA's answer.
func TestOPAExplain(t *testing.T) {
	o := startOPA(t, "", "testdata/opa/v1")
	etc := newOPAEtc(t, "frontend")
	s := newPAMStack(t, opaRules(o.URL, pamAuthzSettings...))
	explain := func(secret string) (string, int) {
		argv := append(append([]string(nil), etc.prefix...), cli, "explain", "--conf", s.rules, "--service", "sshd",
			"--user", "ops", "--rhost", "192.0.2.30", "--opa-answer", "last_name=ramesh", "--opa-answer", "secret="+secret)
		out, err := command(argv[0], argv[1:]...).CombinedOutput()
		return string(out), exitStatus(t, err)
	}
	out, code := explain("suresh")
	for _, want := range []string{"OPEN\n", `info "Welcome to the OPA-PAM demonstration."`, `"display_responses":{"last_name":"ramesh","secret":"********"}`,
		`"files":{"/etc/host_identity.json":{"host_id":"frontend"}}`, `"pam_username":"ops"`, "answer: allow true", "OPA rule: OPA answered OPEN"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	if code != 0 || strings.Contains(out, "suresh") {
		t.Errorf("exit %d, or the secret shows:\n%s", code, out)
	}
	out, code = explain("nope-4711")
	if code != 1 || !strings.Contains(out, `errors ["You cannot pass!"]`) || strings.Contains(out, "nope-4711") {
		t.Errorf("a wrong secret: exit %d:\n%s", code, out)
	}
}
