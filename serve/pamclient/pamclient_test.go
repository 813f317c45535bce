package pamclient

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/msteinert/pam/v2"
)

// step is one conversation message a fake module sends.
type step struct {
	kind msgKind
	text string
}

// fakeTx is a PAM stack: its authenticate sends auth and wants the answers
// in want (in order), its account answers acct.
type fakeTx struct {
	conv  *conversation
	auth  []step
	want  []string
	acct  error
	block chan struct{} // Authenticate waits for it when not nil
	rhost string
	user  string // PAM_USER as the stack leaves it; the started name when empty
	lost  bool   // the stack left no PAM_USER
	ended bool
	done  chan struct{} // closed by End when not nil
}

func (f *fakeTx) SetItem(i pam.Item, v string) error {
	if i == pam.Rhost {
		f.rhost = v
	}
	return nil
}

func (f *fakeTx) Authenticate(pam.Flags) error {
	if f.block != nil {
		<-f.block
	}
	var got []string
	for _, s := range f.auth {
		a, err := f.conv.respond(s.kind, s.text)
		if err != nil {
			return pam.ErrConv
		}
		if s.kind == echoOff || s.kind == echoOn {
			got = append(got, a)
		}
	}
	if len(got) != len(f.want) {
		return pam.ErrAuth
	}
	for i := range got {
		if got[i] != f.want[i] {
			return pam.ErrAuth
		}
	}
	return nil
}

func (f *fakeTx) AcctMgmt(pam.Flags) error { return f.acct }

func (f *fakeTx) GetItem(i pam.Item) (string, error) {
	if i != pam.User || f.lost {
		return "", pam.ErrBadItem
	}
	return f.user, nil
}
func (f *fakeTx) End() error {
	f.ended = true
	if f.done != nil {
		close(f.done)
	}
	return nil
}

func client(t *testing.T, tx *fakeTx, max int, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(Config{Service: "web", Timeout: timeout, Max: max})
	if err != nil {
		t.Fatal(err)
	}
	c.start = func(service, user string, conv *conversation, _ string) (transactor, error) {
		if service != "web" {
			t.Errorf("service %q", service)
		}
		tx.conv = conv
		if tx.user == "" {
			tx.user = user
		}
		return tx, nil
	}
	return c
}

func TestConversation(t *testing.T) {
	pw := step{echoOff, "Password: "}
	otp := step{echoOn, "OTP: "}
	pin := step{echoOff, "PIN: "}
	for _, tt := range []struct {
		name    string
		tx      fakeTx
		answers []string
		outcome Outcome
		phase   string
		prompts []Prompt
		msgs    int
		user    string // Result.User; "alice" on success when empty
	}{
		{name: "password", tx: fakeTx{auth: []step{pw}, want: []string{"secret"}}, outcome: Success},
		{name: "wrong password", tx: fakeTx{auth: []step{pw}, want: []string{"other"}}, outcome: Denied, phase: "authenticate"},
		{name: "account refuses", tx: fakeTx{auth: []step{pw}, want: []string{"secret"}, acct: pam.ErrPermDenied}, outcome: Denied, phase: "account"},
		{name: "otp asked", tx: fakeTx{auth: []step{pw, otp}, want: []string{"secret", "123456"}},
			outcome: Challenge, phase: "authenticate", prompts: []Prompt{{"OTP: ", true}}},
		{name: "otp answered", tx: fakeTx{auth: []step{pw, otp}, want: []string{"secret", "123456"}},
			answers: []string{"123456"}, outcome: Success},
		{name: "otp then pin, one answer", tx: fakeTx{auth: []step{pw, otp, pin}, want: []string{"secret", "1", "2"}},
			answers: []string{"1"}, outcome: Challenge, phase: "authenticate", prompts: []Prompt{{"OTP: ", true}, {"PIN: ", false}}},
		{name: "otp then pin", tx: fakeTx{auth: []step{pw, otp, pin}, want: []string{"secret", "1", "2"}},
			answers: []string{"1", "2"}, outcome: Success},
		{name: "echo-on before the password takes an answer", tx: fakeTx{auth: []step{otp, pw}, want: []string{"1", "secret"}},
			answers: []string{"1"}, outcome: Success},
		{name: "messages collected", tx: fakeTx{auth: []step{{info, "hello"}, pw, {errorMsg, "careful"}}, want: []string{"secret"}},
			outcome: Success, msgs: 2},
		{name: "binary prompt", tx: fakeTx{auth: []step{{binary, ""}}}, outcome: Denied, phase: "authenticate"},
		{name: "a module renames the user", tx: fakeTx{auth: []step{pw}, want: []string{"secret"}, user: "alice.smith"},
			outcome: Success, user: "alice.smith"},
		{name: "the stack loses PAM_USER", tx: fakeTx{auth: []step{pw}, want: []string{"secret"}, lost: true},
			outcome: Denied, phase: "account"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tx := tt.tx
			c := client(t, &tx, 1, time.Second)
			var answers [][]byte
			for _, a := range tt.answers {
				answers = append(answers, []byte(a))
			}
			password := []byte("secret")
			res, err := c.Authenticate(context.Background(), Request{User: "alice", RHost: "10.0.0.1", Password: password, Answers: answers})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome || res.Phase != tt.phase {
				t.Errorf("outcome %v phase %q (%v), want %v %q", res.Outcome, res.Phase, res.Code, tt.outcome, tt.phase)
			}
			if len(res.Prompts) != len(tt.prompts) {
				t.Fatalf("prompts %v, want %v", res.Prompts, tt.prompts)
			}
			for i := range tt.prompts {
				if res.Prompts[i] != tt.prompts[i] {
					t.Errorf("prompt %d %v, want %v", i, res.Prompts[i], tt.prompts[i])
				}
			}
			wantUser := tt.user
			if wantUser == "" && tt.outcome == Success {
				wantUser = "alice"
			}
			if res.User != wantUser {
				t.Errorf("User %q, want %q", res.User, wantUser)
			}
			if len(res.Messages) != tt.msgs {
				t.Errorf("messages %v", res.Messages)
			}
			if tx.rhost != "10.0.0.1" || !tx.ended {
				t.Errorf("rhost %q, ended %v", tx.rhost, tx.ended)
			}
			if !bytes.Equal(password, make([]byte, len(password))) {
				t.Errorf("password not zeroed: %q", password)
			}
			for _, a := range answers {
				if !bytes.Equal(a, make([]byte, len(a))) {
					t.Errorf("answer not zeroed: %q", a)
				}
			}
		})
	}
}

func TestAccountOnly(t *testing.T) {
	tx := fakeTx{auth: []step{{echoOff, "Password: "}}} // would fail: no password given
	c := client(t, &tx, 1, time.Second)
	res, err := c.Account(context.Background(), "alice", "::1")
	if err != nil || res.Outcome != Success {
		t.Fatalf("%v %v", res, err)
	}
	tx.acct = pam.ErrAcctExpired
	if res, _ = c.Account(context.Background(), "alice", "::1"); res.Outcome != Denied || res.Phase != "account" {
		t.Fatalf("expired account: %+v", res)
	}
}

func TestNULRefused(t *testing.T) {
	for _, r := range []Request{
		{User: "alice\x00root", Password: []byte("secret")},
		{User: "alice", RHost: "a\x00b", Password: []byte("secret")},
		{User: "alice", Password: []byte("secret\x00x")},
		{User: "alice", Password: []byte("secret"), Answers: [][]byte{[]byte("1\x002")}},
	} {
		tx := fakeTx{auth: []step{{echoOff, "Password: "}}, want: []string{"secret"}}
		c := client(t, &tx, 1, time.Second)
		res, err := c.Authenticate(context.Background(), r)
		if err != nil || res.Outcome != Denied || tx.conv != nil {
			t.Errorf("%q: %+v %v (started: %v)", r.User, res, err, tx.conv != nil)
		}
	}
}

// TestTimeoutAndBusy: a stack that blocks makes the request give up at its
// deadline; the blocked call still holds its place, so the next request
// is refused as busy until it ends.
func TestTimeoutAndBusy(t *testing.T) {
	block := make(chan struct{})
	done := make(chan struct{})
	tx := fakeTx{auth: []step{{echoOff, "Password: "}, {echoOn, "OTP: "}}, want: []string{"secret", "1"}, block: block, done: done}
	c := client(t, &tx, 1, 50*time.Millisecond)
	start := time.Now()
	_, err := c.Authenticate(context.Background(), Request{User: "alice", Password: []byte("secret"), Answers: [][]byte{[]byte("1")}})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("gave up after %v", d)
	}
	if _, err := c.Account(context.Background(), "alice", ""); !errors.Is(err, ErrBusy) {
		t.Fatalf("while blocked: %v, want ErrBusy", err)
	}
	// the conversation was closed: the blocked stack's prompts now fail
	close(block)
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for len(c.slots) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(c.slots) != 0 {
		t.Fatal("the finished transaction kept its place")
	}
	if a, err := tx.conv.respond(echoOff, "Password: "); err == nil {
		t.Errorf("a closed conversation answered %q", a)
	}
	tx.block, tx.done = nil, nil
	tx.auth, tx.want = []step{{echoOff, "Password: "}}, []string{"secret"}
	if res, err := c.Authenticate(context.Background(), Request{User: "alice", Password: []byte("secret")}); err != nil || res.Outcome != Success {
		t.Fatalf("after: %+v %v", res, err)
	}
}

// TestClientGone: a request whose client went away stops waiting at once,
// and says so, not that PAM ran out of time.
func TestClientGone(t *testing.T) {
	block := make(chan struct{})
	done := make(chan struct{})
	defer func() { close(block); <-done }()
	tx := fakeTx{auth: []step{{echoOff, "Password: "}, {echoOn, "OTP: "}}, want: []string{"secret", "1"}, block: block, done: done}
	c := client(t, &tx, 1, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Authenticate(ctx, Request{User: "alice", Password: []byte("secret"), Answers: [][]byte{[]byte("1")}})
	if !errors.Is(err, ErrGone) {
		t.Fatalf("err %v, want ErrGone", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{{Timeout: time.Second, Max: 1}, {Service: "web", Max: 1}, {Service: "web", Timeout: time.Second}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
