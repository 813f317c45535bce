package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// wrappedHelper writes a script that runs the helper with env added: the
// module gives the helper a fixed environment, so a test that needs its
// own NSS users or system bus puts them in between.
func wrappedHelper(t *testing.T, dir string, env []string) string {
	t.Helper()
	path := filepath.Join(dir, "helper-wrapped")
	must(t, os.WriteFile(path, []byte("#!/bin/sh\nexec env "+strings.Join(env, " ")+" "+helper+"\n"), 0o755))
	return path
}

// numberWorld is a PAM stack whose helper sees users u01…u20 in group g
// (and x01 in no group) through nss_wrapper, and the fake logind on a
// private system bus.
type numberWorld struct {
	*pamStack
	logind *logindtest.Fake
	bus    *testbus.Bus
}

func newNumberWorld(t *testing.T, rules string, withLogind bool, moduleOpts ...string) *numberWorld {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testenv.Missing(t, "dbus-daemon")
	}
	s := newPAMStack(t, rules)
	var passwd, members strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&passwd, "u%02d:x:%d:100::/home/u%02d:/bin/sh\n", i, 2000+i, i)
		if i > 1 {
			members.WriteString(",")
		}
		fmt.Fprintf(&members, "u%02d", i)
	}
	passwd.WriteString("x01:x:3001:3001::/home/x01:/bin/sh\nroot:x:0:0::/root:/bin/sh\n")
	must(t, os.WriteFile(filepath.Join(s.dir, "passwd"), []byte(passwd.String()), 0o644))
	must(t, os.WriteFile(filepath.Join(s.dir, "group"), []byte("root:x:0:\nusers:x:100:\ng:x:500:"+members.String()+"\nx01:x:3001:\n"), 0o644))

	bus, err := testbus.StartBus()
	must(t, err)
	t.Cleanup(bus.Stop)
	w := &numberWorld{pamStack: s, bus: bus}
	if withLogind {
		w.logind, err = logindtest.New(bus.Address)
		must(t, err)
		t.Cleanup(w.logind.Close)
	}
	env := append(testenv.NSSWrapperEnv(t, filepath.Join(s.dir, "passwd"), filepath.Join(s.dir, "group")),
		"DBUS_SYSTEM_BUS_ADDRESS="+bus.Address)
	line := s.moduleLine(append(moduleOpts, "helper="+wrappedHelper(t, s.dir, env))...)
	s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\nsession required "+line+"\n")
	return w
}

func (w *numberWorld) login(t *testing.T, user string, ops ...string) bool {
	t.Helper()
	if len(ops) == 0 {
		ops = []string{"authenticate", "acct_mgmt", "open_session", "close_session"}
	}
	_, code := w.pamtester(t, nil, "sshd", user, ops...)
	return code == 0
}

const numberRules = "SSHD OPEN GROUP g\nSSHD OPEN USER x01\nSSHD NUMBER GROUP g:3\n"

// TestNumberConcurrent: 20 users of one group log in at the same moment
// against NUMBER GROUP g:3, with nobody logged in before: exactly 3 get in.
// logind learns of a session only after the module said yes, so this holds
// only because NUMBER decisions are serialised and count pending logins.
func TestNumberConcurrent(t *testing.T) {
	w := newNumberWorld(t, numberRules, true)
	var mu sync.Mutex
	var in []string
	var wg sync.WaitGroup
	for i := 1; i <= 20; i++ {
		wg.Add(1)
		go func(user string) {
			defer wg.Done()
			if w.login(t, user, "authenticate", "acct_mgmt") { // no session close: still logging in
				mu.Lock()
				in = append(in, user)
				mu.Unlock()
			}
		}(fmt.Sprintf("u%02d", i))
	}
	wg.Wait()
	if len(in) != 3 {
		t.Fatalf("%d users got in (%v), want exactly 3", len(in), in)
	}
	if !w.login(t, "x01") {
		t.Error("x01 is in no NUMBER group and must not be limited")
	}
	if !w.login(t, in[0], "authenticate", "acct_mgmt") {
		t.Errorf("%s, already counted, must get in again: NUMBER limits users, not sessions", in[0])
	}
}

// TestNumberWithLogind: sessions come and go in logind and the decisions
// follow: closing sessions and greeters do not count, a user already
// logged in does not grow the count.
func TestNumberWithLogind(t *testing.T) {
	w := newNumberWorld(t, "DEBUG:TRUE\n"+numberRules, true)
	add := func(id, user, class, state string) {
		must(t, w.logind.Add(logindtest.Session{ID: id, User: user, Class: class, State: state, Service: "sshd", Type: "tty"}))
	}
	add("1", "u01", "user", "active")
	add("2", "u02", "user", "online")
	add("3", "u03", "user", "active")
	add("4", "sddm", "greeter", "online")
	mark := sink.Mark()
	if w.login(t, "u04") {
		t.Fatal("u04 got in with u01, u02, u03 logged in and g:3")
	}
	if len(grep(sink.Since(mark), `NUMBER g:3: full, 4 user(s) with "u04" counted: "u04", "u01", "u02", "u03"`)) != 1 {
		t.Errorf("the debug trace does not show the counted users:\n%s", strings.Join(sink.Since(mark), "\n"))
	}
	if !w.login(t, "u01") {
		t.Error("u01, logged in already, must get in again")
	}
	add("3", "u03", "user", "closing")
	if !w.login(t, "u04") {
		t.Error("u03's session is closing: u04 must get in")
	}
	w.logind.Remove("3")
	add("5", "u05", "user-early", "active")
	if w.login(t, "u06") {
		t.Error("user-early sessions count: u06 must be refused")
	}
}

// TestNumberLogindDown: with no logind on the bus, the sessions come from
// utmp; where there is no utmp either, NUMBER fails closed with a line
// naming both.
func TestNumberLogindDown(t *testing.T) {
	w := newNumberWorld(t, "DEBUG:TRUE\n"+numberRules, false)
	mark := sink.Mark()
	in := w.login(t, "u01")
	lines := sink.Since(mark)
	if _, err := os.Stat("/var/run/utmp"); err == nil {
		if len(grep(lines, "from /var/run/utmp (systemd-logind is not running")) == 0 {
			t.Errorf("the fallback to utmp is not logged:\n%s", strings.Join(lines, "\n"))
		}
		return
	}
	if in {
		t.Fatal("no logind, no utmp: NUMBER must deny")
	}
	if len(grep(lines, "pam-accesscontrol[", `CLOSE for "u01"`, "systemd-logind is not running", "utmp")) != 1 {
		t.Errorf("want one line naming logind and utmp:\n%s", strings.Join(lines, "\n"))
	}
	if !w.login(t, "x01") {
		t.Error("a user no NUMBER entry applies to does not need the session count")
	}
}

// TestNumberLogindSlow: a logind that does not answer costs the login,
// within the module's timeout, with a line saying so.
func TestNumberLogindSlow(t *testing.T) {
	w := newNumberWorld(t, numberRules, true, "timeout=3")
	w.logind.SetDelay(20e9)
	mark := sink.Mark()
	if w.login(t, "u01", "authenticate") {
		t.Fatal("a hanging logind let the login in")
	}
	if len(grep(sink.Since(mark), "pam-accesscontrol[", `CLOSE for "u01"`, "no answer in time")) != 1 {
		t.Errorf("want a line saying logind did not answer:\n%s", strings.Join(sink.Since(mark), "\n"))
	}
}
