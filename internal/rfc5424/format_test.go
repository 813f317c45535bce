package rfc5424

import (
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
)

var when = time.Date(2026, 11, 22, 16, 7, 0, 123456000, time.UTC)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    audit.Event
		want string
	}{
		{"open", audit.Event{Time: when, Kind: "decision", Login: "ab12", Phase: "authenticate", Service: "sshd",
			User: "alice", RHost: "10.2.2.2", Auth: "password", Verdict: "OPEN", Rule: "/etc/x.conf:3", Reason: "OPEN rule", Host: "h1", PID: 42},
			`<86>1 2026-11-22T16:07:00.123456Z h1 pam-accesscontrol 42 decision [pamac@32473 login="ab12" event="decision" phase="authenticate" service="sshd" user="alice" rhost="10.2.2.2" auth="password" verdict="OPEN" rule="/etc/x.conf:3" reason="OPEN rule"] decision OPEN for "alice" from "10.2.2.2" (service "sshd", auth password, login ab12) by /etc/x.conf:3: OPEN rule`},
		{"the name as given, when NSS names the account otherwise", audit.Event{Time: when, Kind: "decision", Login: "f", User: "alice",
			PAMUser: "ALICE", Verdict: "CLOSE"},
			`<85>1 2026-11-22T16:07:00.123456Z - pam-accesscontrol - decision [pamac@32473 login="f" event="decision" user="alice" pam_user="ALICE" verdict="CLOSE"] decision CLOSE for "alice" (PAM_USER "ALICE") from "LOCAL" (service "", login f)`},
		{"serve's refusal is a notice", audit.Event{Time: when, Kind: audit.ServeDecision, Login: "s", Phase: "/auth", Service: "web",
			User: "alice", RHost: "192.0.2.7", Verdict: "rate_limited", Reason: "too many requests or failures for this user"},
			`<85>1 2026-11-22T16:07:00.123456Z - pam-accesscontrol - serve_decision [pamac@32473 login="s" event="serve_decision" phase="/auth" service="web" user="alice" rhost="192.0.2.7" verdict="rate_limited" reason="too many requests or failures for this user"] serve_decision rate_limited for "alice" from "192.0.2.7" (service "web", login s): too many requests or failures for this user`},
		{"serve's success is information", audit.Event{Time: when, Kind: audit.ServeDecision, Login: "t", Verdict: "ok"},
			`<86>1 2026-11-22T16:07:00.123456Z - pam-accesscontrol - serve_decision [pamac@32473 login="t" event="serve_decision" verdict="ok"] serve_decision ok for "" from "LOCAL" (service "", login t)`},
		{"close is a notice, empty fields left out", audit.Event{Time: when, Kind: "decision", Login: "c", Verdict: "CLOSE"},
			`<85>1 2026-11-22T16:07:00.123456Z - pam-accesscontrol - decision [pamac@32473 login="c" event="decision" verdict="CLOSE"] decision CLOSE for "" from "LOCAL" (service "", login c)`},
		{"refused config is an error", audit.Event{Time: when, Kind: "config_refused", Login: "d", Host: "h"},
			`<83>1 2026-11-22T16:07:00.123456Z h pam-accesscontrol - config_refused [pamac@32473 login="d" event="config_refused"] config_refused for "" from "LOCAL" (service "", login d)`},
		{"escapes", audit.Event{Time: when, Kind: "decision", Login: "e", User: "a\"b]c\\d\ne", Host: "bad host"},
			`<86>1 2026-11-22T16:07:00.123456Z badhost pam-accesscontrol - decision [pamac@32473 login="e" event="decision" user="a\"b\]c\\d\\x0ae"] decision for "a\"b]c\\d\ne" from "LOCAL" (service "", login e)`},
	} {
		if got := Format(tc.e); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	long := Format(audit.Event{Time: when, Kind: "decision", Reason: strings.Repeat("é", 3000)})
	if len(long) > maxLine || !strings.HasSuffix(long, "...") || !strings.Contains(long, "é") {
		t.Errorf("a long event is %d bytes", len(long))
	}
}
