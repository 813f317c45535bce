package call

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// fakeChecker stands in for the provider: valid tokens by user, a
// provider that is down, and every token it was asked about.
type fakeChecker struct {
	valid map[string]string // token → user
	exp   time.Time
	down  bool
	asked []string
}

func (f *fakeChecker) Check(_ context.Context, token, user string) (oidc.Valid, error) {
	f.asked = append(f.asked, token)
	if f.down {
		return oidc.Valid{}, &oidc.UnavailableError{Err: context.DeadlineExceeded}
	}
	u, ok := f.valid[token]
	if !ok {
		return oidc.Valid{}, &oidc.RefusedError{Reason: "the provider says it is not active"}
	}
	if u != user {
		return oidc.Valid{}, &oidc.RefusedError{Reason: "sub is " + u}
	}
	return oidc.Valid{User: u, Exp: f.exp, Via: "introspection"}, nil
}

const tokenConf = "OIDC_ISSUER:https://sso.example.com\nOIDC_CLIENT_ID:pam\nOIDC_CLIENT_SECRET:/etc/oidc.secret\n" +
	"SSHD TOKEN USER bob\nSSHD OPEN GROUP users\n"

func tokenHost(t *testing.T, extra string) *host {
	h := newHost(t, tokenConf+extra+"AUDIT_LOG:"+filepath.Join(t.TempDir(), "audit.json")+"\n")
	h.checker = &fakeChecker{valid: map[string]string{"tok-bob": "bob", "tok-alice": "alice"}, exp: h.now.Add(time.Hour)}
	h.proc(100, 1, 1)
	return h
}

func withPassword(user, pw string) *fakePAM {
	return &fakePAM{user: user, items: map[int32]string{protocol.ItemAuthtok: pw}}
}

// audit is the audit trail AUDIT_LOG (the config's last line) holds.
func (h *host) audit() string {
	conf, _ := os.ReadFile(h.conf)
	_, path, _ := strings.Cut(strings.TrimSpace(string(conf)), "AUDIT_LOG:")
	b, _ := os.ReadFile(path)
	return string(b)
}

func TestTokenDecisionLine(t *testing.T) {
	h := tokenHost(t, "")
	if code := h.call(protocol.FnAuthenticate, 100, withPassword("bob", "tok-bob"), "10.0.0.1", 0); code != protocol.PAMSuccess {
		t.Fatalf("valid token: %d\n%s", code, strings.Join(h.log.lines, "\n"))
	}
	h.proc(101, 2, 1)
	if code := h.call(protocol.FnAuthenticate, 101, withPassword("bob", "tok-alice"), "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Errorf("another user's token: %d", code)
	}
	h.proc(102, 3, 1)
	if code := h.call(protocol.FnAuthenticate, 102, withPassword("alice", "unix-password"), "10.0.0.1", 0); code != protocol.PAMSuccess {
		t.Errorf("a user no TOKEN rule names: %d", code)
	}
	if strings.Join(h.checker.asked, ",") != "tok-bob,tok-alice" {
		t.Errorf("the provider was asked about %q", h.checker.asked)
	}
	a := h.audit()
	if !strings.Contains(a, `"event":"token_ok"`) || !strings.Contains(a, `"event":"token_refused"`) || !strings.Contains(a, "sub is alice") {
		t.Errorf("audit trail:\n%s", a)
	}
	if strings.Contains(a, "tok-") || strings.Contains(strings.Join(h.log.lines, "\n"), "tok-") {
		t.Errorf("a token was logged")
	}
}

func TestTokenLineOnly(t *testing.T) {
	h := tokenHost(t, "SSHD CLOSE USER carol\nSSHD TOKEN USER carol\n")
	h.tokenLine = TokensOnly
	// no TOKEN rule names alice: ignored, her password not even read
	pam := withPassword("alice", "unix-password")
	if code := h.call(protocol.FnAuthenticate, 100, pam, "10.0.0.1", 0); code != protocol.PAMIgnore {
		t.Errorf("alice: %d, want PAM_IGNORE", code)
	}
	if pam.itemReads != 0 {
		t.Errorf("alice's password was read")
	}
	// bob's Unix password is no token: refused, nothing kept
	h.proc(101, 2, 1)
	pam = withPassword("bob", "unix-password")
	if code := h.call(protocol.FnAuthenticate, 101, pam, "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Errorf("bob with his Unix password: %d, want PAM_AUTH_ERR", code)
	}
	// a retry on the same handle with the token
	pam.items[protocol.ItemAuthtok] = "tok-bob"
	if code := h.call(protocol.FnAuthenticate, 101, pam, "10.0.0.1", 0); code != protocol.PAMSuccess {
		t.Errorf("bob's retry with a token: %d\n%s", code, strings.Join(h.log.lines, "\n"))
	}
	// the decision stands for account
	h.tokenLine = ""
	if code := h.call(protocol.FnAcctMgmt, 101, pam, "10.0.0.1", 0); code != protocol.PAMSuccess {
		t.Errorf("account after the token: %d", code)
	}
	// CLOSE beats TOKEN: carol's token is never sent
	h.tokenLine = TokensOnly
	h.proc(102, 3, 1)
	asked := len(h.checker.asked)
	h.checker.valid["tok-carol"] = "carol"
	if code := h.call(protocol.FnAuthenticate, 102, withPassword("carol", "tok-carol"), "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Errorf("carol under CLOSE: %d", code)
	}
	if len(h.checker.asked) != asked {
		t.Errorf("a token of a login CLOSE refuses was sent")
	}
	// asked for when no module read a password before
	h.proc(103, 4, 1)
	pam = &fakePAM{user: "bob", answers: []string{"tok-bob"}}
	if code := h.call(protocol.FnAuthenticate, 103, pam, "10.0.0.1", 0); code != protocol.PAMSuccess || pam.items[protocol.ItemAuthtok] != "tok-bob" {
		t.Errorf("prompted token: %d, PAM_AUTHTOK kept %q", code, pam.items[protocol.ItemAuthtok])
	}
}

func TestTokenOrPassword(t *testing.T) {
	h := tokenHost(t, "")
	// token line: a Unix password is refused as a token, nothing kept
	h.tokenLine = TokensOrPassword
	pam := withPassword("bob", "unix-password")
	if code := h.call(protocol.FnAuthenticate, 100, pam, "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Fatalf("token line: %d", code)
	}
	// pam_unix accepted it; the decision line lets the password stand in
	h.tokenLine, h.tokens = "", TokensOrPassword
	if code := h.call(protocol.FnAuthenticate, 100, pam, "10.0.0.1", 0); code != protocol.PAMSuccess {
		t.Fatalf("decision line: %d\n%s", code, strings.Join(h.log.lines, "\n"))
	}
	// without tokens=or-password the decision line checks the token itself
	h.tokens = ""
	h.proc(101, 2, 1)
	if code := h.call(protocol.FnAuthenticate, 101, withPassword("bob", "unix-password"), "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Errorf("only mode's decision line with a Unix password: %d", code)
	}
}

func TestTokenCacheAndFallback(t *testing.T) {
	h := tokenHost(t, "OIDC_CACHE:60\n")
	for i, pid := range []int32{100, 101} {
		h.proc(pid, uint64(i+5), 1)
		if code := h.call(protocol.FnAuthenticate, pid, withPassword("bob", "tok-bob"), "10.0.0.1", 0); code != protocol.PAMSuccess {
			t.Fatalf("login %d: %d", i, code)
		}
	}
	if len(h.checker.asked) != 1 {
		t.Errorf("warm cache: asked %d times", len(h.checker.asked))
	}
	h.now = h.now.Add(61 * time.Second)
	h.proc(102, 9, 1)
	h.call(protocol.FnAuthenticate, 102, withPassword("bob", "tok-bob"), "10.0.0.1", 0)
	if len(h.checker.asked) != 2 {
		t.Errorf("past OIDC_CACHE: asked %d times", len(h.checker.asked))
	}
	// refusals are never cached
	for i, pid := range []int32{103, 104} {
		h.proc(pid, uint64(i+10), 1)
		h.call(protocol.FnAuthenticate, pid, withPassword("bob", "tok-other"), "10.0.0.2", 0)
	}
	if len(h.checker.asked) != 4 {
		t.Errorf("refusals: asked %d times in all", len(h.checker.asked))
	}
	// the provider down: CLOSE (once the cached answer is too old)
	h.checker.down = true
	h.now = h.now.Add(61 * time.Second)
	h.proc(105, 20, 1)
	if code := h.call(protocol.FnAuthenticate, 105, withPassword("bob", "tok-bob"), "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Errorf("provider down, OIDC_FALLBACK:CLOSE: %d", code)
	}
	if !strings.Contains(h.audit(), "OIDC_FALLBACK:CLOSE") {
		t.Errorf("no fallback reason in the audit trail")
	}
}

func TestTokenFallbackCache(t *testing.T) {
	h := tokenHost(t, "OIDC_CACHE:OFF\nOIDC_FALLBACK:CACHE\n")
	if code := h.call(protocol.FnAuthenticate, 100, withPassword("bob", "tok-bob"), "10.0.0.1", 0); code != protocol.PAMSuccess {
		t.Fatal(code)
	}
	h.checker.down = true
	h.now = h.now.Add(30 * time.Minute)
	h.proc(101, 2, 1)
	if code := h.call(protocol.FnAuthenticate, 101, withPassword("bob", "tok-bob"), "10.0.0.1", 0); code != protocol.PAMSuccess {
		t.Errorf("known token while down: %d", code)
	}
	h.checker.valid["tok-bob2"] = "bob"
	h.proc(102, 3, 1)
	if code := h.call(protocol.FnAuthenticate, 102, withPassword("bob", "tok-bob2"), "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Errorf("unknown token while down: %d", code)
	}
	h.now = h.now.Add(31 * time.Minute) // past exp
	h.proc(103, 4, 1)
	if code := h.call(protocol.FnAuthenticate, 103, withPassword("bob", "tok-bob"), "10.0.0.1", 0); code != protocol.PAMAuthErr {
		t.Errorf("expired token while down: %d", code)
	}
}

func TestTokenBackoff(t *testing.T) {
	h := tokenHost(t, "")
	for i := 0; i < 5; i++ {
		pid := int32(200 + i)
		h.proc(pid, uint64(i+1), 1)
		h.call(protocol.FnAuthenticate, pid, withPassword("bob", "guess"+string(rune('a'+i))), "10.0.0.9", 0)
	}
	if len(h.checker.asked) != 4 {
		t.Errorf("asked %d times; after 3 free failures the 4th locks out, the 5th is not asked", len(h.checker.asked))
	}
	if !strings.Contains(h.audit(), "backing off") {
		t.Error("no backoff in the audit trail")
	}
	// another host, the same user: still backing off (per user)
	h.proc(300, 50, 1)
	if code := h.call(protocol.FnAuthenticate, 300, withPassword("bob", "tok-bob"), "10.0.0.8", 0); code != protocol.PAMAuthErr {
		t.Errorf("user backing off: %d", code)
	}
	h.now = h.now.Add(10 * time.Minute)
	h.proc(301, 51, 1)
	if code := h.call(protocol.FnAuthenticate, 301, withPassword("bob", "tok-bob"), "10.0.0.8", 0); code != protocol.PAMSuccess {
		t.Errorf("after the backoff: %d", code)
	}
}

// With or-password, Unix password logins (each a refused token at the
// token line) never lock tokens out of their user or host.
func TestTokenOrPasswordNoLockout(t *testing.T) {
	h := tokenHost(t, "")
	for i := 0; i < 6; i++ {
		pid := int32(400 + i)
		h.proc(pid, uint64(i+1), 1)
		pam := withPassword("bob", "unix-password")
		h.tokenLine, h.tokens = TokensOrPassword, ""
		h.call(protocol.FnAuthenticate, pid, pam, "10.0.0.7", 0)
		h.tokenLine, h.tokens = "", TokensOrPassword
		if code := h.call(protocol.FnAuthenticate, pid, pam, "10.0.0.7", 0); code != protocol.PAMSuccess {
			t.Fatalf("Unix login %d: %d", i, code)
		}
	}
	h.tokenLine, h.tokens = TokensOrPassword, ""
	h.proc(500, 99, 1)
	if code := h.call(protocol.FnAuthenticate, 500, withPassword("bob", "tok-bob"), "10.0.0.7", 0); code != protocol.PAMSuccess {
		t.Errorf("a token after Unix logins from the same host: %d\n%s", code, h.audit())
	}
}
