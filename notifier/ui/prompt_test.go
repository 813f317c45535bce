package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
)

func TestPromptAnswers(t *testing.T) {
	a := test.NewTempApp(t)
	for _, tt := range []struct {
		tap  func(p *Prompt)
		want dbusapi.Decision
	}{
		{func(p *Prompt) { test.Tap(p.Allow) }, dbusapi.Allow},
		{func(p *Prompt) { test.Tap(p.Deny) }, dbusapi.Deny},
		{func(p *Prompt) { test.Tap(p.Deny); test.Tap(p.Allow) }, dbusapi.Deny}, // the first answer counts
	} {
		var got []dbusapi.Decision
		p := NewPrompt(dbusapi.Request{User: "bob", RHost: "10.0.0.5", Service: "sshd", Timeout: 30},
			func(d dbusapi.Decision) { got = append(got, d) })
		w := a.NewWindow(Title)
		w.SetContent(p.Content)
		tt.tap(p)
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("answers %v, want [%v]", got, tt.want)
		}
		if !p.Allow.Disabled() || !p.Deny.Disabled() {
			t.Error("buttons still enabled after the answer")
		}
		w.Close()
	}
}

func TestPromptShowsCleanText(t *testing.T) {
	a := test.NewTempApp(t)
	p := NewPrompt(dbusapi.Request{User: "mallory\n[root] allowed", RHost: "evil\x1b[2J.example", Service: "sshd", Timeout: 30},
		func(dbusapi.Decision) {})
	w := a.NewWindow(Title)
	w.SetContent(p.Content)
	var texts []string
	for _, o := range test.LaidOutObjects(p.Content) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"mallory[root] allowed", "wants to log in from evil[2J.example\nthrough sshd.", "Denied in 30 s unless you allow it."} {
		if !strings.Contains(all, want) {
			t.Errorf("labels %q lack %q", all, want)
		}
	}
	if strings.Contains(all, "\x1b") {
		t.Error("an escape reached the screen")
	}
	p.SetRemaining(4500 * time.Millisecond)
	if p.Countdown.Text != "Denied in 5 s unless you allow it." {
		t.Errorf("countdown %q", p.Countdown.Text)
	}
}

func TestClosedText(t *testing.T) {
	if got := ClosedText(dbusapi.Event{Kind: dbusapi.EventClosed, User: "bob", RHost: "10.0.0.5", Service: "sshd"}); got != "bob from 10.0.0.5 logged out (sshd)." {
		t.Errorf("%q", got)
	}
}

// TestPromptRemember: the offer of ASK_REMEMBER is a third button, and only
// when the request makes it.
func TestPromptRemember(t *testing.T) {
	a := test.NewTempApp(t)
	if p := NewPrompt(dbusapi.Request{User: "bob", RHost: "10.0.0.5", Service: "sshd", Timeout: 30}, func(dbusapi.Decision) {}); p.Remember != nil {
		t.Error("a remember button without the offer")
	}
	var got []dbusapi.Decision
	p := NewPrompt(dbusapi.Request{User: "bob", RHost: "10.0.0.5", Service: "sshd", Timeout: 30, Remember: 8},
		func(d dbusapi.Decision) { got = append(got, d) })
	w := a.NewWindow(Title)
	w.SetContent(p.Content)
	defer w.Close()
	if p.Remember == nil || p.Remember.Text != "Allow for 8 h" {
		t.Fatalf("remember button %+v", p.Remember)
	}
	test.Tap(p.Remember)
	test.Tap(p.Allow)
	if len(got) != 1 || got[0] != dbusapi.AllowRemember {
		t.Errorf("answers %v, want [allow-remember]", got)
	}
	if !p.Remember.Disabled() || !p.Allow.Disabled() {
		t.Error("buttons still enabled after the answer")
	}
}
