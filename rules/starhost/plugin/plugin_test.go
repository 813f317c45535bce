package plugin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

type logLine struct {
	priority int
	msg      string
}

func host(lines *[]logLine) *starhost.Host {
	return &starhost.Host{Log: func(p int, m string) { *lines = append(*lines, logLine{p, m}) },
		Limits: starhost.Limits{Steps: 100_000, Time: time.Second}}
}

type groups map[string][]string

func (g groups) UserGroups(u string) ([]string, error) { return g[u], nil }

// TestExamplePlugins runs each plugin of examples/plugins.
func TestExamplePlugins(t *testing.T) {
	dir, _ := filepath.Abs("../../../examples/plugins")
	files := map[string]string{}
	for _, n := range []string{"officehours", "reason", "networks"} {
		files[n] = filepath.Join(dir, n+".star")
	}
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.Local)
	saturday10 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.Local)
	monday20 := time.Date(2026, 11, 23, 20, 0, 0, 0, time.Local)
	tests := []struct {
		plugin   string
		now      time.Time
		user     string
		rhost    string
		answer   string // typed at the prompt
		want     rules.Answer
		wantLog  string
		wantShow string // an error message shown
	}{
		{"officehours", monday10, "alice", "", "", rules.AnswerOpen, "", ""},
		{"officehours", saturday10, "alice", "", "", rules.AnswerClose, "", "weekdays from 8:00"},
		{"officehours", monday20, "alice", "", "", rules.AnswerClose, "", "weekdays"},
		{"reason", monday10, "alice", "10.1.2.3", "fix the backup", rules.NoOpinion, "reason for alice's login from 10.1.2.3: fix the backup", ""},
		{"reason", monday10, "alice", "10.1.2.3", " x ", rules.AnswerClose, "", "A reason is required."},
		{"networks", monday10, "alice", "10.1.2.3", "", rules.NoOpinion, "", ""},
		{"networks", monday10, "alice", "203.0.113.5", "", rules.AnswerClose, "", ""},
		{"networks", monday10, "bob", "203.0.113.5", "", rules.NoOpinion, "", ""}, // bob travels
		{"networks", monday10, "alice", "gw.example.com", "", rules.AnswerClose, "", ""},
	}
	for _, tt := range tests {
		var lines []logLine
		var shown []string
		h := host(&lines)
		h.Now = func() time.Time { return tt.now }
		p := &Runner{Host: h, Files: files, Groups: groups{"bob": {"travel"}},
			Converse: func(style int, msg string) (string, error) {
				if style == ErrorMsg {
					shown = append(shown, msg)
				}
				return tt.answer, nil
			}}
		got, err := p.Decide(context.Background(), &rules.Rule{Plugin: tt.plugin}, rules.Login{Service: "sshd", User: tt.user, RHost: tt.rhost})
		if err != nil || got != tt.want {
			t.Errorf("%s %s %s at %v: %v, %v; want %v", tt.plugin, tt.user, tt.rhost, tt.now, got, err, tt.want)
		}
		if tt.wantLog != "" && (len(lines) != 1 || lines[0].msg != tt.wantLog || lines[0].priority != 5) {
			t.Errorf("%s: log %v, want %q", tt.plugin, lines, tt.wantLog)
		}
		if tt.wantShow != "" && (len(shown) != 1 || !strings.Contains(shown[0], tt.wantShow)) {
			t.Errorf("%s: shown %q, want %q", tt.plugin, shown, tt.wantShow)
		}
	}
}

func TestPluginAnswers(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ src, want string }{
		{`def decide(ctx): return "OPEN"`, ""},
		{`def decide(ctx): return "open"`, `"open"`},
		{`def decide(ctx): return True`, "True"},
		{`def decide(ctx): return 0`, "0"},
		{`x = 1`, "decide"},
	} {
		path := filepath.Join(dir, "p.star")
		writeFile(t, path, tt.src+"\n")
		p := &Runner{Host: &starhost.Host{}, Files: map[string]string{"p": path}}
		_, err := p.Decide(context.Background(), &rules.Rule{Plugin: "p"}, rules.Login{})
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

type sessionList []rules.Session

func (s sessionList) Sessions(context.Context) ([]rules.Session, error) { return s, nil }

// TestPluginCtx: every field of the README's ctx table reaches the plugin
// with the login's values, and prompt, info and error reach the
// conversation with their styles.
func TestPluginCtx(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.star")
	writeFile(t, path, `def decide(ctx):
    s = ctx.sessions[0]
    got = [ctx.service, ctx.user, ctx.rhost, ctx.ruser, ctx.tty, ctx.auth, ",".join(ctx.groups),
           s.user, s.service, s.rhost, s.type, getattr(s, "class"), s.state,
           ctx.prompt("secret? "), ctx.prompt("name? ", echo=True), ctx.rhost_in(["10.0.0.0/8"])]
    ctx.info("note")
    ctx.error("oops")
    want = ["sshd", "alice", "10.1.2.3", "rbob", "ssh", "password", "staff,travel",
            "carol", "sddm", "", "x11", "user", "active", "s3cret", "alice2", True]
    if got != want:
        fail("ctx: %r" % (got,))
    return "OPEN"
`)
	var said []string
	p := &Runner{Host: &starhost.Host{Limits: starhost.Limits{Steps: 100_000, Time: time.Second}},
		Files:    map[string]string{"p": path},
		Groups:   groups{"alice": {"staff", "travel"}},
		Sessions: sessionList{{User: "carol", Service: "sddm", Type: "x11", Class: "user", State: "active"}},
		Converse: func(style int, msg string) (string, error) {
			said = append(said, fmt.Sprintf("%d %s", style, msg))
			return map[string]string{"secret? ": "s3cret", "name? ": "alice2"}[msg], nil
		}}
	got, err := p.Decide(context.Background(), &rules.Rule{Plugin: "p"},
		rules.Login{Service: "sshd", User: "alice", RHost: "10.1.2.3", RUser: "rbob", TTY: "ssh", Auth: rules.AuthPassword})
	if err != nil || got != rules.AnswerOpen {
		t.Fatalf("%v, %v", got, err)
	}
	want := []string{
		fmt.Sprintf("%d secret? ", PromptEchoOff), fmt.Sprintf("%d name? ", PromptEchoOn),
		fmt.Sprintf("%d note", TextInfo), fmt.Sprintf("%d oops", ErrorMsg)}
	if strings.Join(said, "|") != strings.Join(want, "|") {
		t.Errorf("conversation %q, want %q", said, want)
	}
}

// TestPluginTypingNotCounted: the time limit does not count the user's
// typing: a plugin whose prompt is answered after twice its time limit
// still decides.
func TestPluginTypingNotCounted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.star")
	writeFile(t, path, "def decide(ctx):\n    ctx.prompt(\"why? \")\n    return \"OPEN\"\n")
	p := &Runner{Host: &starhost.Host{Limits: starhost.Limits{Steps: 100_000, Time: 200 * time.Millisecond}},
		Files: map[string]string{"p": path},
		Converse: func(int, string) (string, error) {
			time.Sleep(400 * time.Millisecond)
			return "because", nil
		}}
	if got, err := p.Decide(context.Background(), &rules.Rule{Plugin: "p"}, rules.Login{Service: "sshd", User: "alice"}); err != nil || got != rules.AnswerOpen {
		t.Errorf("a slow typist: %v, %v; want OPEN", got, err)
	}
}
