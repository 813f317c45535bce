package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkOIDCLogin is what a TOKEN login costs: one real PAM
// transaction (pamtester, libpam, the module, the helper) per op, with the
// token line of --tokens only, against zitadel/oidc's example provider on
// loopback: an OPEN rule (no token: the token line answers PAM_IGNORE),
// a token with a warm cache (no request to the provider), and with no
// cache (discovery and introspection on every login); then both through
// the helper daemon, which keeps the provider's discovery (no cache:
// introspection only).
func BenchmarkOIDCLogin(b *testing.B) {
	p := startProvider(b)
	tok := p.token(b, opClient, opSecret, "alice", "openid profile pam")
	for _, bc := range []struct {
		name, rules, password string
		daemon                bool
	}{
		{"OPEN rule", "SSHD OPEN USER alice\n", "", false},
		{"token warm cache", "OIDC_CACHE:3600\nSSHD TOKEN USER alice\n", tok, false},
		{"token cold", "OIDC_CACHE:OFF\nSSHD TOKEN USER alice\n", tok, false},
		{"token warm cache, daemon", "OIDC_CACHE:3600\nSSHD TOKEN USER alice\n", tok, true},
		{"token cold, daemon", "OIDC_CACHE:OFF\nSSHD TOKEN USER alice\n", tok, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newOPAStack(b, "")
			line := s.moduleLine()
			if bc.daemon {
				socket, _ := startDaemon(b, s.dir)
				line = s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
			}
			must(b, os.WriteFile(filepath.Join(s.svc, "sshd"), []byte(fmt.Sprintf(
				"auth [success=done ignore=ignore default=die] %[1]s tokenline=only\nauth required pam_permit.so\n"+
					"auth required %[1]s\naccount required %[1]s\n", line)), 0o644))
			must(b, os.WriteFile(s.rules, []byte(p.oidcSettings(b, s.dir)+"DEFAULT:CLOSE\n"+bc.rules), 0o644))
			login := func() {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				if out, code := compatPamtester(ctx, b, s, nil, bc.password+"\n", nil, "sshd", "alice", "authenticate", "acct_mgmt"); code != 0 {
					b.Fatalf("login refused (%d):\n%s", code, out)
				}
			}
			login() // the warm cache warmed
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				login()
			}
		})
	}
}
