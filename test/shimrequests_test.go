package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// protoHelper builds the request-making stand-in helper once.
func protoHelper(t *testing.T) string {
	return buildOnce(t, "protohelper", "go", "build", "-o", "OUT", "./protohelper")
}

// TestShimServesRequests: every request of the protocol, answered by the
// real module from libpam, across two calls of one handle (auth then
// account), as pam_python scripts will use them.
func TestShimServesRequests(t *testing.T) {
	s := newPAMStack(t, "")
	report := filepath.Join(s.dir, "report")
	line := s.moduleLine("helper="+protoHelper(t)) + " " + report
	s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\n")
	cmd := command("pamtester", "-I", "rhost=10.1.2.3", "-I", "tty=pts/7", "sshd", "alice", "authenticate", "acct_mgmt")
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+libPAMWrapper(t), "PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+s.svc)
	cmd.Stdin = strings.NewReader("s3cret\nbob\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "hello from the helper") {
		t.Errorf("the info message did not reach the application:\n%s", out)
	}
	data, err := os.ReadFile(report)
	must(t, err)
	want := []string{
		"auth call user={alice true} service={sshd true} rhost={10.1.2.3 true} tty={pts/7 true} args=7",
		"auth get rhost {10.1.2.3 true} <nil>",
		"auth set ruser <nil>",
		"auth get ruser {remote-bob true} <nil>",
		"auth set service set item: PAM error 29", // PAM_BAD_ITEM: the service is not for a module to change
		"auth get conv get item: PAM error 29",    // not a string item
		"auth putenv <nil>",
		"auth getenv {auth true} <nil>",
		"auth envlist PAMAC_TEST=auth <nil>",
		"auth getdata { false} <nil>",
		"auth setdata <nil>",
		"auth faildelay <nil>",
		`auth getuser "alice" <nil>`,
		"auth converse [{{s3cret true} 0} {{ false} 0} {{bob true} 0}] <nil>",
		"account call user={alice true} service={sshd true} rhost={10.1.2.3 true} tty={pts/7 true} args=7",
		"account get rhost {10.1.2.3 true} <nil>",
		"account set ruser <nil>",
		"account get ruser {remote-bob true} <nil>",
		"account set service set item: PAM error 29",
		"account get conv get item: PAM error 29",
		"account putenv <nil>",
		"account getenv {account true} <nil>",
		"account envlist PAMAC_TEST=account <nil>",
		"account getdata {by auth true} <nil>", // kept on the handle between calls
		"account setdata <nil>",
		"account faildelay <nil>",
		`account getuser "alice" <nil>`,
	}
	got := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(got) < len(want) {
		t.Fatalf("report:\n%s", data)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("line %d: %q\n           want %q", i+1, got[i], w)
		}
	}
}

// TestShimRejectsBadRequest: a malformed request from the helper ends the
// call, denied, with a log line.
func TestShimRejectsBadRequest(t *testing.T) {
	s := newPAMStack(t, "")
	// the stand-in helper reads its mode before the last argument, the
	// report; a bare word must follow a path (a script's argv), or it is
	// an unknown option that the module refuses before any helper runs
	report := filepath.Join(s.dir, "report")
	line := s.moduleLine("helper="+protoHelper(t)) + " " + report + " bad-request " + report
	s.service(t, "sshd", "auth required "+line+"\n")
	mark := sink.Mark()
	out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate")
	if code == 0 {
		t.Fatalf("the login got in:\n%s", out)
	}
	if len(grep(sink.Since(mark), "pam_accesscontrol(sshd:auth)", "conversation message of the wrong shape")) != 1 {
		t.Errorf("no line about the bad request: %q", sink.Since(mark))
	}
}
