package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// tokenStack is the PAM service "sshd" as pam-configure --tokens writes
// it, with pam_matrix standing in for pam_unix: the token line above the
// password module, our decision line below it; opts go on each of our
// lines.
func tokenStack(t *testing.T, s *pamStack, mode string, opts ...string) {
	t.Helper()
	matrix := testenv.Library(t, "pam_wrapper/pam_matrix.so")
	line := s.moduleLine(opts...)
	action, decision := "die", line
	if mode == "or-password" {
		action, decision = "ignore", line+" tokens=or-password"
	}
	s.service(t, "sshd", fmt.Sprintf("auth [success=done ignore=ignore default=%s] %s tokenline=%s\n"+
		"auth required %s passdb=%s\nauth required %s\naccount required %s\n",
		action, line, mode, matrix, filepath.Join(s.dir, "passdb"), decision, line))
}

// unixPasswords are pam_matrix's: what pam_unix would check.
var unixPasswords = map[string]string{"alice": "alice-unix", "bob": "bob-unix", "carol": "carol-unix"}

func newTokenPAM(t *testing.T, p *oidcProvider, mode, extra string) *pamStack {
	t.Helper()
	s := newPAMStack(t, "DEFAULT:CLOSE\n")
	var passdb strings.Builder
	for u, pw := range unixPasswords {
		fmt.Fprintf(&passdb, "%s:%s:sshd\n", u, pw)
	}
	must(t, os.WriteFile(filepath.Join(s.dir, "passdb"), []byte(passdb.String()), 0o600))
	rules := p.oidcSettings(t, s.dir) + "AUDIT_LOG:" + filepath.Join(s.dir, "audit.json") + "\n" + extra +
		"DEFAULT:CLOSE\nSSHD TOKEN USER alice,bob\nSSHD OPEN USER carol\n"
	must(t, os.WriteFile(s.rules, []byte(rules), 0o644))
	tokenStack(t, s, mode)
	return s
}

// tokenLogin is one password login (auth and account) through real libpam,
// the password typed at every prompt.
func tokenLogin(t *testing.T, s *pamStack, user, password string) (bool, string) {
	t.Helper()
	out, code := s.pamtesterTyping(t, strings.NewReader(password+"\n"+password+"\n"), []string{"rhost=10.1.2.3"},
		"sshd", user, "authenticate", "acct_mgmt")
	return code == 0, out
}

// lastTokenEvent is the last token_ok or token_refused audit event.
func lastTokenEvent(t *testing.T, s *pamStack) (kind, reason string) {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(s.dir, "audit.json"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct{ Event, Reason string }
		if json.Unmarshal(sc.Bytes(), &e) == nil && strings.HasPrefix(e.Event, "token_") {
			kind, reason = e.Event, e.Reason
		}
	}
	return kind, reason
}

// TestOIDCTokens: tokens from a real OpenID provider (zitadel/oidc's
// example OP, device authorization grant) as passwords through real
// libpam: a valid one lets its user in; another user's, a wrong-scope,
// another client's, a revoked (the provider restarted: every token it
// issued gone) and an expired one do not, nor the TOKEN
// user's Unix password (token only); and the password of a user no TOKEN
// rule names never reaches the provider.
func TestOIDCTokens(t *testing.T) {
	p := startProvider(t, "-lifetime", "8s")
	s := newTokenPAM(t, p, "only", "OIDC_CACHE:OFF\n")
	valid := func() {
		t.Helper()
		if ok, out := tokenLogin(t, s, "alice", p.token(t, opClient, opSecret, "alice", "openid profile pam")); !ok {
			k, r := lastTokenEvent(t, s)
			t.Fatalf("alice with her token refused: %s %s\n%s", k, r, out)
		}
	}
	valid()

	t.Run("a password no TOKEN rule names never reaches the provider", func(t *testing.T) {
		before := p.introspections(t)
		if ok, out := tokenLogin(t, s, "carol", "carol-unix"); !ok {
			t.Errorf("carol with her Unix password refused:\n%s", out)
		}
		if ok, _ := tokenLogin(t, s, "carol", "not-carols-password"); ok {
			t.Error("carol with a wrong password let in")
		}
		if n := p.introspections(t); n != before {
			t.Errorf("the provider introspected %d times for carol", n-before)
		}
	})

	for _, c := range []struct {
		name, password, reason string
	}{
		{"another user's token", "", "sub is \"bob\", not the user \"alice\""},
		{"a token without the scope", "scope", "scope \"pam\" missing"},
		{"another client's token", "client", "not active"},
		{"a revoked token", "revoked", "not active"},
		{"the TOKEN user's Unix password", "alice-unix", "not active"},
		{"an expired token", "expired", "not active"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var pw string
			switch c.password {
			case "":
				pw = p.token(t, opClient, opSecret, "bob", "openid profile pam")
			case "scope":
				pw = p.token(t, opClient, opSecret, "alice", "openid profile")
			case "client":
				pw = p.token(t, opOtherClient, opOtherSecret, "alice", "openid profile pam")
			case "revoked":
				pw = p.token(t, opClient, opSecret, "alice", "openid profile pam")
				if ok, _ := tokenLogin(t, s, "alice", pw); !ok {
					t.Fatal("the token was refused before it was revoked")
				}
				p.stop()
				p.restart(t)
			case "expired":
				pw = p.token(t, opClient, opSecret, "alice", "openid profile pam")
				if ok, _ := tokenLogin(t, s, "alice", pw); !ok {
					t.Fatal("the token was refused before it expired")
				}
				time.Sleep(9 * time.Second)
			default:
				pw = c.password
			}
			before := p.introspections(t)
			ok, out := tokenLogin(t, s, "alice", pw)
			if ok {
				t.Fatalf("let in:\n%s", out)
			}
			kind, reason := lastTokenEvent(t, s)
			if kind != "token_refused" || !strings.Contains(reason, c.reason) {
				t.Errorf("audit: %s %q, want token_refused with %q", kind, reason, c.reason)
			}
			if p.introspections(t) != before+1 {
				t.Errorf("introspected %d times, want once", p.introspections(t)-before)
			}
			data, _ := os.ReadFile(filepath.Join(s.dir, "audit.json"))
			if strings.Contains(string(data), pw) || strings.Contains(strings.Join(sink.Since(0), "\n"), pw) {
				t.Error("the password or token is in the audit trail or syslog")
			}
			valid() // a success ends the backoff of failures
		})
	}
}

// TestOIDCOrPassword: tokens=or-password: a TOKEN user gets in with a
// token or the Unix password, not with neither.
func TestOIDCOrPassword(t *testing.T) {
	p := startProvider(t, "-lifetime", "1m")
	s := newTokenPAM(t, p, "or-password", "")
	if ok, out := tokenLogin(t, s, "alice", p.token(t, opClient, opSecret, "alice", "openid profile pam")); !ok {
		t.Errorf("token refused:\n%s", out)
	}
	if ok, out := tokenLogin(t, s, "alice", "alice-unix"); !ok {
		t.Errorf("Unix password refused:\n%s", out)
	}
	if ok, _ := tokenLogin(t, s, "alice", "neither"); ok {
		t.Error("neither a token nor the Unix password let in")
	}
	if ok, _ := tokenLogin(t, s, "alice", p.token(t, opClient, opSecret, "bob", "openid profile pam")); ok {
		t.Error("bob's token let alice in")
	}
}

// TestOIDCCache: a positive answer stands OIDC_CACHE for the same token
// (one introspection for two logins); a refusal is never cached.
func TestOIDCCache(t *testing.T) {
	p := startProvider(t, "-lifetime", "1m")
	s := newTokenPAM(t, p, "only", "OIDC_CACHE:30\n")
	tok := p.token(t, opClient, opSecret, "alice", "openid profile pam")
	before := p.introspections(t)
	for i := 0; i < 2; i++ {
		if ok, out := tokenLogin(t, s, "alice", tok); !ok {
			t.Fatalf("login %d refused:\n%s", i, out)
		}
	}
	if n := p.introspections(t) - before; n != 1 {
		t.Errorf("two logins with one token: %d introspections, want 1", n)
	}
	bad := p.token(t, opClient, opSecret, "bob", "openid profile pam")
	before = p.introspections(t)
	for i := 0; i < 2; i++ {
		tokenLogin(t, s, "alice", bad)
	}
	if n := p.introspections(t) - before; n != 2 {
		t.Errorf("a refusal was cached: %d introspections for two logins", n)
	}
}

// TestOIDCFallback: the provider hung (SIGSTOP) or stopped: the login is
// refused within OIDC_TIMEOUT (OIDC_FALLBACK:CLOSE); with
// OIDC_FALLBACK:CACHE a token the provider accepted before stands, no
// other.
func TestOIDCFallback(t *testing.T) {
	p := startProvider(t, "-lifetime", "1m")
	s := newTokenPAM(t, p, "only", "OIDC_CACHE:OFF\n")
	tok := p.token(t, opClient, opSecret, "alice", "openid profile pam")
	for _, how := range []string{"hung", "stopped"} {
		t.Run(how, func(t *testing.T) {
			if how == "hung" {
				must(t, syscall.Kill(p.cmd.Process.Pid, syscall.SIGSTOP))
				defer syscall.Kill(p.cmd.Process.Pid, syscall.SIGCONT)
			} else {
				p.stop()
			}
			start := time.Now()
			ok, out := tokenLogin(t, s, "alice", tok)
			took := time.Since(start)
			if ok {
				t.Fatalf("let in while the provider is %s:\n%s", how, out)
			}
			// OIDC_TIMEOUT:2: the discovery request times out, nothing waits longer
			if took > 2*time.Second+3*time.Second {
				t.Errorf("refused after %v, OIDC_TIMEOUT is 2 s", took)
			}
			if kind, reason := lastTokenEvent(t, s); kind != "token_refused" || !strings.Contains(reason, "OIDC_FALLBACK:CLOSE") {
				t.Errorf("audit: %s %q", kind, reason)
			}
			t.Logf("provider %s: refused after %v", how, took)
		})
	}

	q := startProvider(t, "-lifetime", "1m")
	s = newTokenPAM(t, q, "only", "OIDC_CACHE:OFF\nOIDC_FALLBACK:CACHE\n")
	used := q.token(t, opClient, opSecret, "alice", "openid profile pam")
	unused := q.token(t, opClient, opSecret, "alice", "openid profile pam")
	if ok, out := tokenLogin(t, s, "alice", used); !ok {
		t.Fatalf("refused:\n%s", out)
	}
	q.stop()
	if ok, out := tokenLogin(t, s, "alice", used); !ok {
		t.Errorf("OIDC_FALLBACK:CACHE: a token accepted before refused while the provider is down:\n%s", out)
	}
	if ok, _ := tokenLogin(t, s, "alice", unused); ok {
		t.Error("OIDC_FALLBACK:CACHE: a token never checked let in while the provider is down")
	}
}

// TestOIDCDaemonKeepsTheProvider: the helper daemon discovers a TOKEN
// provider once for its logins (pammod/call's TokenCheckers), where the
// per-call helper discovers it at every login; what each login is
// answered stays the same, every token still introspected.
func TestOIDCDaemonKeepsTheProvider(t *testing.T) {
	p := startProvider(t, "-lifetime", "1m")
	s := newTokenPAM(t, p, "only", "OIDC_CACHE:OFF\n")
	discoveries := func() int { return len(p.requests("/.well-known/openid-configuration")) }
	logins := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			if ok, out := tokenLogin(t, s, "alice", p.token(t, opClient, opSecret, "alice", "openid profile pam")); !ok {
				t.Fatalf("alice with her token refused:\n%s", out)
			}
		}
		if ok, _ := tokenLogin(t, s, "alice", p.token(t, opClient, opSecret, "bob", "openid profile pam")); ok {
			t.Fatal("bob's token let alice in")
		}
	}

	before, asked := discoveries(), p.introspections(t)
	logins(2)
	if n := discoveries() - before; n != 3 {
		t.Errorf("the per-call helper: %d discoveries for 3 logins, want 3", n)
	}

	socket, _ := startDaemon(t, s.dir)
	// no helper to run: only the daemon can answer
	tokenStack(t, s, "only", "socket="+socket, "helper=/nonexistent/helper")
	before = discoveries()
	logins(3)
	if n := discoveries() - before; n != 1 {
		t.Errorf("the daemon: %d discoveries for 4 logins, want 1", n)
	}
	if n := p.introspections(t) - asked; n != 7 {
		t.Errorf("%d introspections for 7 logins with OIDC_CACHE:OFF, want 7", n)
	}
}

// TestSSHDToken: a real sshd and ssh client: with --tokens only, root gets
// in with a token from the provider as the SSH password, not with the
// Unix password; when no TOKEN rule names root, the Unix password works
// and never reaches the provider.
func TestSSHDToken(t *testing.T) {
	p := startProvider(t, "-lifetime", "1m")
	var matrix string
	srv := startSSHDWith(t, sshdSetup{stack: func(s *sshServer, line string) string {
		matrix = testenv.Library(t, "pam_wrapper/pam_matrix.so")
		return fmt.Sprintf("auth [success=done ignore=ignore default=die] %[1]s tokenline=only\n"+
			"auth required %[2]s passdb=%[3]s\nauth required %[1]s\naccount required %[1]s\nsession required %[1]s\n",
			line, matrix, filepath.Join(s.dir, "passdb"))
	}})
	settings := p.oidcSettings(t, srv.dir) + "OIDC_CACHE:OFF\n"
	srv.setRules(t, settings+"DEFAULT:CLOSE\nSSHD TOKEN USER root\n")
	if ok, out := sshPassword(t, srv, "root", p.token(t, opClient, opSecret, "root", "openid profile pam")); !ok {
		t.Errorf("root with a token refused:\n%s", out)
	}
	if ok, _ := sshPassword(t, srv, "root", "secret"); ok {
		t.Error("root with the Unix password let in under --tokens only")
	}
	if ok, _ := sshPassword(t, srv, "root", p.token(t, opClient, opSecret, "alice", "openid profile pam")); ok {
		t.Error("alice's token let root in")
	}
	srv.setRules(t, settings+"DEFAULT:CLOSE\nSSHD TOKEN USER alice\nSSHD OPEN USER root\n")
	before := p.introspections(t)
	if ok, out := sshPassword(t, srv, "root", "secret"); !ok {
		t.Errorf("root, named by no TOKEN rule, refused with the Unix password:\n%s", out)
	}
	if n := p.introspections(t) - before; n != 0 {
		t.Errorf("root's Unix password reached the provider (%d introspections)", n)
	}
}

// sshPassword logs in with one password by ssh's password method.
func sshPassword(t *testing.T, s *sshServer, user, password string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sshpass", "-e", "ssh", "-o", "PubkeyAuthentication=no", "-p", fmt.Sprint(s.port),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
		"-o", "NumberOfPasswordPrompts=1", "-o", "PreferredAuthentications=password", user+"@127.0.0.1")
	cmd.Env = append(os.Environ(), "SSHPASS="+password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ssh: no answer in 30 s\n%s", out.String())
	}
	return err == nil && strings.Contains(out.String(), "SESSION-OK"), out.String()
}
