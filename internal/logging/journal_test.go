package logging

import (
	"errors"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
)

// fakeJournal records what is sent, or refuses it.
type fakeJournal struct {
	msgs []string
	vars []map[string]string
	err  error
}

func (f *fakeJournal) Send(msg string, _ journal.Priority, vars map[string]string) error {
	if f.err != nil {
		return f.err
	}
	f.msgs, f.vars = append(f.msgs, msg), append(f.vars, vars)
	return nil
}

func TestDecisionToTheJournal(t *testing.T) {
	j := &fakeJournal{}
	l := (&Logger{journal: j}).Fork() // a call's logger keeps the journal
	l.Decision(Fields{"PAMAC_VERDICT": "CLOSE", "PAMAC_USER": "bob\nINJECTED=1"}, "auth: %s for %q", "CLOSE", "bob")
	if len(j.msgs) != 1 || j.msgs[0] != `auth: CLOSE for "bob"` {
		t.Fatalf("sent %q", j.msgs)
	}
	v := j.vars[0]
	for k, want := range map[string]string{"PAMAC_VERDICT": "CLOSE", "SYSLOG_IDENTIFIER": Tag, "SYSLOG_FACILITY": "10",
		"PAMAC_USER": "bob\nINJECTED=1"} { // a value is a value: the journal's encoding keeps newlines in it
		if v[k] != want {
			t.Errorf("%s = %q, want %q", k, v[k], want)
		}
	}
	if _, ok := v["INJECTED"]; ok {
		t.Error("a user name made a field")
	}
	if v["SYSLOG_PID"] == "" {
		t.Error("no SYSLOG_PID")
	}
}

// TestDecisionWithoutJournal: where journald refuses the line (none
// listening), the decision goes to syslog instead, once, as AUTHPRIV info
// with control characters escaped; where the journal takes it, syslog does
// not get it a second time (journald forwards it).
func TestDecisionWithoutJournal(t *testing.T) {
	pc, w := fakeSyslog(t)
	l := (&Logger{w: w, journal: &fakeJournal{err: errors.New("no journald")}}).Fork()
	l.Decision(Fields{"PAMAC_VERDICT": "OPEN"}, "auth: %s for %s", "OPEN", Quote("bob\nx"))
	got := readSyslog(t, pc, 1)[0]
	if !strings.HasPrefix(got, "<86>") || !strings.Contains(got, Tag+"[") ||
		!strings.HasSuffix(strings.TrimSpace(got), `auth: OPEN for "bob\nx"`) {
		t.Errorf("syslog got %q, want the decision line at AUTHPRIV info", got)
	}
	noMoreSyslog(t, pc)

	j := &fakeJournal{}
	(&Logger{w: w, journal: j}).Decision(Fields{"PAMAC_VERDICT": "CLOSE"}, "auth: CLOSE")
	if len(j.msgs) != 1 {
		t.Errorf("journal got %q, want the line", j.msgs)
	}
	noMoreSyslog(t, pc)
}

// TestDecisionZeroLogger: the zero Logger (no syslog, no journal) drops a
// decision without a panic.
func TestDecisionZeroLogger(t *testing.T) {
	var zero *Logger
	zero.Decision(nil, "x")
	(&Logger{}).Decision(nil, "x")
}

// TestDecisionWithoutSyslog: where no syslog daemon answers on /dev/log
// but journald listens, Open's Logger still puts each decision in the
// journal (it once dropped them with everything else: a CI machine
// without rsyslog had an empty journal).
func TestDecisionWithoutSyslog(t *testing.T) {
	j := &fakeJournal{}
	l := openWith(func() (syslogWriter, error) { return nil, errors.New("connection refused") }, j).Fork()
	l.Decision(Fields{"PAMAC_VERDICT": "CLOSE"}, "auth: CLOSE for %s", Quote("bob"))
	if len(j.msgs) != 1 || j.msgs[0] != `auth: CLOSE for "bob"` {
		t.Errorf("journal got %q, want the decision", j.msgs)
	}
	l.Info("not a decision") // no syslog: dropped, no panic
	l.Close()
}
