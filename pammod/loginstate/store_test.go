package loginstate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for a Store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.Local)} }
func openTest(t *testing.T) (*Store, *clock) {
	t.Helper()
	c := newClock()
	s, err := Open(filepath.Join(t.TempDir(), "run"), c.now)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

var (
	monitor = Process{PID: 100, Start: 5000}
	kbdint  = Process{PID: 200, Start: 6000}
	brother = Process{PID: 201, Start: 6100}
)

func at(self, parent Process) Login {
	return Login{Boot: "b", Self: self, Parent: parent, Handle: "0xbeef"}
}

func TestOpenRefusesAnUnsafeRunDir(t *testing.T) {
	base := t.TempDir()
	open := func(dir string) error { _, err := Open(dir, nil); return err }
	if err := open(filepath.Join(base, "new")); err != nil {
		t.Fatalf("a new run directory: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(base, "new")); fi.Mode().Perm() != 0o700 {
		t.Errorf("made with mode %v, want 0700", fi.Mode().Perm())
	}
	if err := open("relative/run"); err == nil {
		t.Error("a relative run directory was taken")
	}
	loose := filepath.Join(base, "loose")
	os.Mkdir(loose, 0o700)
	os.Chmod(loose, 0o777)
	if err := open(loose); err == nil {
		t.Error("a world-writable run directory was taken")
	}
	os.Chmod(loose, 0o770)
	if err := open(loose); err == nil {
		t.Error("a group-writable run directory was taken")
	}
	os.Chmod(loose, 0o755)
	if err := open(loose); err != nil {
		t.Errorf("a 0755 run directory: %v", err)
	}
	link := filepath.Join(base, "link")
	os.Symlink(loose, link)
	if err := open(link); err == nil {
		t.Error("a symlink as run directory was taken")
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(base, "other")
		os.Mkdir(other, 0o700)
		os.Chown(other, 65534, 65534)
		if err := open(other); err == nil {
			t.Error("a run directory of another user was taken")
		}
	}
	// a kind's subdirectory planted with loose permissions is refused too
	s, err := Open(loose, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(loose, decisionsDir), 0o777)
	os.Chmod(filepath.Join(loose, decisionsDir), 0o777)
	if err := s.SaveDecision(Decision{Owner: at(kbdint, monitor), Config: "c"}); err == nil {
		t.Error("a decision was saved in a world-writable directory")
	}
	// the directories above count too: whoever may write one of them
	// could move the run directory away and another in its place
	shared := filepath.Join(base, "shared")
	os.MkdirAll(filepath.Join(shared, "run"), 0o700)
	os.Chmod(shared, 0o777)
	if err := open(filepath.Join(shared, "run")); err == nil || !strings.Contains(err.Error(), shared+" is writable by group or others") {
		t.Errorf("a run directory in a world-writable directory: %v", err)
	}
}

func TestDecisions(t *testing.T) {
	s, c := openTest(t)
	d := Decision{Owner: at(kbdint, monitor), Config: "cfg1", User: "alice", Service: "sshd", RHost: "192.0.2.1",
		Auth: "password", Verdict: "OPEN", Source: "rules.conf:2", LoginID: "L1"}
	if err := s.SaveDecision(d); err != nil {
		t.Fatal(err)
	}
	q := func(caller Login, handleID string) Query {
		return Query{Caller: caller, Config: "cfg1", User: "alice", Service: "sshd", RHost: "192.0.2.1", HandleID: handleID}
	}
	tests := []struct {
		name   string
		change func(*Query)
		want   bool
	}{
		{"the same process, id on the handle", func(*Query) {}, true},
		{"the same process, no id on the handle (a new handle at the old address)", func(q *Query) { q.HandleID = "" }, false},
		{"the same process, another login's id", func(q *Query) { q.HandleID = "L2" }, false},
		{"its parent, no id yet (sshd's monitor)", func(q *Query) { q.Caller = at(monitor, Process{PID: 1, Start: 1}); q.HandleID = "" }, true},
		{"its parent, holding this id", func(q *Query) { q.Caller = at(monitor, Process{}); q.HandleID = "L1" }, true},
		{"its parent, holding another login's id", func(q *Query) { q.Caller = at(monitor, Process{}); q.HandleID = "L0" }, false},
		{"a child it forked after deciding", func(q *Query) { q.Caller = at(Process{PID: 300, Start: 7000}, kbdint) }, true},
		{"a child without the id", func(q *Query) { q.Caller = at(Process{PID: 300, Start: 7000}, kbdint); q.HandleID = "" }, false},
		{"a sibling, same parent and handle", func(q *Query) { q.Caller = at(brother, monitor) }, false},
		{"a sibling without the id", func(q *Query) { q.Caller = at(brother, monitor); q.HandleID = "" }, false},
		{"a process that reused the pid", func(q *Query) { q.Caller = at(Process{PID: 200, Start: 9000}, monitor) }, false},
		{"another config", func(q *Query) { q.Config = "cfg2" }, false},
		{"another user", func(q *Query) { q.User = "bob" }, false},
		{"another service", func(q *Query) { q.Service = "login" }, false},
		{"another remote host", func(q *Query) { q.RHost = "192.0.2.2" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query := q(at(kbdint, monitor), "L1")
			tt.change(&query)
			got, ok := s.FindDecision(query)
			if ok != tt.want {
				t.Fatalf("found = %v, want %v", ok, tt.want)
			}
			if ok && (got.Verdict != "OPEN" || got.LoginID != "L1" || got.Owner != d.Owner) {
				t.Errorf("found %+v", got)
			}
		})
	}

	c.add(DecisionTTL - time.Second)
	if _, ok := s.FindDecision(q(at(kbdint, monitor), "L1")); !ok {
		t.Error("not found just before its TTL")
	}
	c.add(2 * time.Second)
	if _, ok := s.FindDecision(q(at(kbdint, monitor), "L1")); ok {
		t.Error("found after its TTL")
	}
	c.t = c.t.Add(-2 * DecisionTTL)
	if _, ok := s.FindDecision(q(at(kbdint, monitor), "L1")); ok {
		t.Error("found when dated in the future")
	}
}

// TestDecisionByPAMUser: a decision about the account NSS names alice,
// for a client that typed ALICE, is found by the later phases, which know
// the login by PAM_USER ("ALICE"), and by no other spelling.
func TestDecisionByPAMUser(t *testing.T) {
	s, _ := openTest(t)
	s.SaveDecision(Decision{Owner: at(kbdint, monitor), Config: "c", User: "alice", PAMUser: "ALICE", Verdict: "CLOSE", LoginID: "L1"})
	for user, want := range map[string]bool{"ALICE": true, "alice": false, "Alice": false} {
		d, ok := s.FindDecision(Query{Caller: at(kbdint, monitor), Config: "c", User: user, HandleID: "L1"})
		if ok != want || ok && (d.User != "alice" || d.Verdict != "CLOSE") {
			t.Errorf("PAM_USER %q: found %v %+v, want %v", user, ok, d, want)
		}
	}
}

func TestDecisionOfASiblingIsNotFound(t *testing.T) {
	// A fork server: one parent, one handle, one child per connection. The
	// first child decides OPEN; its brothers must decide for themselves.
	s, _ := openTest(t)
	s.SaveDecision(Decision{Owner: at(kbdint, monitor), Config: "c", User: "alice", Verdict: "OPEN", LoginID: "L1"})
	for _, id := range []string{"", "L1"} { // the brothers have no id, or the parent's copy of it
		if _, ok := s.FindDecision(Query{Caller: at(brother, monitor), Config: "c", User: "alice", HandleID: id}); ok {
			t.Fatalf("a sibling (handle id %q) found its brother's decision", id)
		}
	}
	// a sibling's CLOSE overwrites what the parent would read: the later
	// phase in the parent decides CLOSE, never OPEN by mistake
	s.SaveDecision(Decision{Owner: at(brother, monitor), Config: "c", User: "alice", Verdict: "CLOSE", LoginID: "L2"})
	if d, ok := s.FindDecision(Query{Caller: at(monitor, Process{}), Config: "c", User: "alice"}); ok && d.Verdict == "OPEN" {
		t.Fatal("the parent found OPEN after a later child was refused")
	}
}

func TestForgetDecision(t *testing.T) {
	s, _ := openTest(t)
	mine := Decision{Owner: at(kbdint, monitor), Config: "c", User: "alice", LoginID: "L1"}
	s.SaveDecision(mine)
	s.ForgetDecision(at(brother, monitor)) // a sibling closing removes nothing of ours
	if _, ok := s.FindDecision(Query{Caller: at(kbdint, monitor), Config: "c", User: "alice", HandleID: "L1"}); !ok {
		t.Fatal("a sibling's close removed the decision")
	}
	s.ForgetDecision(at(monitor, Process{}))
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), decisionsDir))
	for _, e := range entries {
		if e.Name() == mine.Owner.key(monitor) {
			t.Fatal("the parent's close left the copy filed under it")
		}
	}
}

func TestPruneRemovesOldRecords(t *testing.T) {
	s, c := openTest(t)
	s.SaveDecision(Decision{Owner: at(kbdint, monitor), Config: "c"})
	c.add(DecisionTTL + time.Minute)
	s.SaveDecision(Decision{Owner: at(brother, Process{}), Config: "c"})
	names, _ := records(filepath.Join(s.Dir(), decisionsDir))
	if len(names) != 1 || names[0] != at(brother, Process{}).key(brother) {
		t.Fatalf("after pruning: %v", names)
	}
}

// TestPruneAtMostEveryMinute: the directory is scanned once per
// pruneEvery, whatever the number of calls; a record gone stale meanwhile
// is left until then, and never read as valid.
func TestPruneAtMostEveryMinute(t *testing.T) {
	s, c := openTest(t)
	dir := filepath.Join(s.Dir(), decisionsDir)
	s.SaveDecision(Decision{Owner: at(kbdint, monitor), Config: "c"}) // prunes, marks
	c.add(DecisionTTL - 10*time.Second)
	s.SaveDecision(Decision{Owner: at(brother, Process{}), Config: "c"})                        // prunes: the mark is old
	c.add(20 * time.Second)                                                                     // kbdint's record is stale now
	s.SaveDecision(Decision{Owner: at(Process{PID: 202, Start: 6200}, Process{}), Config: "c"}) // within a minute: no scan
	if names, _ := records(dir); len(names) != 4 {                                              // kbdint's two, brother's, the third's
		t.Fatalf("pruned within a minute of the last prune: %v", names)
	}
	if _, ok := s.FindDecision(Query{Caller: at(kbdint, monitor), Config: "c"}); ok {
		t.Error("a stale record served before it was pruned")
	}
	c.add(pruneEvery)
	s.SaveDecision(Decision{Owner: at(Process{PID: 202, Start: 6200}, Process{}), Config: "c"})
	if names, _ := records(dir); len(names) != 2 {
		t.Fatalf("after a minute, stale records are still there: %v", names)
	}
}

func everyoneAlive(Process) bool { return true }

// TestApprovalOfItsOwnLogin: an approval counts while the login it let in
// lives, not while any session of that user from that host does: a
// leftover of a login that ended without telling us (a crash, no
// close_session) lets nobody in, even beside another live session of
// theirs. The session's process takes the approval over from the approved
// one (sshd's keyboard-interactive child, which exits).
func TestApprovalOfItsOwnLogin(t *testing.T) {
	s, _ := openTest(t)
	running := map[Process]bool{kbdint: true, monitor: true}
	alive := func(p Process) bool { return running[p] }
	liveSession := func() (bool, error) { return true, nil } // another session of carol's from h lives
	s.AddApproval(Approval{Owner: at(kbdint, monitor), User: "carol", RHost: "h", Service: "sshd", DesktopUID: 1000})
	if ok, _ := s.Approved("carol", "h", alive, liveSession); !ok {
		t.Fatal("the approved login's own process runs: not approved")
	}
	s.MoveApprovals(at(brother, monitor)) // a sibling takes nothing over
	s.MoveApprovals(at(monitor, Process{}))
	delete(running, kbdint) // the child exits once the monitor holds the session
	if ok, _ := s.Approved("carol", "h", alive, liveSession); !ok {
		t.Fatal("the session's process took the approval over, yet it no longer counts")
	}
	delete(running, monitor) // the approved login ended without a close_session
	if ok, _ := s.Approved("carol", "h", alive, liveSession); ok {
		t.Fatal("a leftover approval of a login that ended counts beside another session of that user from that host")
	}
	if names, _ := records(filepath.Join(s.Dir(), approvedDir)); len(names) != 0 {
		t.Errorf("the leftover approval was not removed: %v", names)
	}
}

func TestApprovals(t *testing.T) {
	s, c := openTest(t)
	s.AddApproval(Approval{Owner: at(kbdint, monitor), User: "carol", RHost: "192.0.2.9", Service: "sshd", DesktopUID: 1000})
	check := func(user, rhost string, live, want bool) {
		t.Helper()
		got, err := s.Approved(user, rhost, everyoneAlive, func() (bool, error) { return live, nil })
		if err != nil || got != want {
			t.Fatalf("Approved(%s, %s, live=%v) = %v, %v; want %v", user, rhost, live, got, err, want)
		}
	}
	if _, err := s.Approved("nobody", "h", everyoneAlive, func() (bool, error) { t.Fatal("logind asked with no approval"); return false, nil }); err != nil {
		t.Fatal(err)
	}
	check("carol", "192.0.2.9", true, true)
	check("carol", "192.0.2.10", true, false)
	check("dave", "192.0.2.9", true, false)
	check("carol", "192.0.2.9", false, false) // no session yet: not approved for a second login
	c.add(ApprovalTTL + time.Second)
	check("carol", "192.0.2.9", false, false) // expired and removed
	check("carol", "192.0.2.9", true, false)

	// two approved sessions: the desktop owner hears of the last one only
	s.AddApproval(Approval{Owner: at(kbdint, monitor), User: "carol", RHost: "h", DesktopUID: 1000})
	other := Process{PID: 500, Start: 9000}
	s.AddApproval(Approval{Owner: at(other, Process{}), User: "carol", RHost: "h", DesktopUID: 1000})
	if _, last := s.ReleaseApproval(at(brother, monitor)); last {
		t.Fatal("a sibling released an approval")
	}
	if _, last := s.ReleaseApproval(at(monitor, Process{})); last {
		t.Fatal("the first of two sessions reported as the last")
	}
	a, last := s.ReleaseApproval(at(other, Process{}))
	if !last || a.User != "carol" || a.DesktopUID != 1000 {
		t.Fatalf("last release = %+v, %v", a, last)
	}
}

func TestPending(t *testing.T) {
	s, c := openTest(t)
	for i, u := range []string{"alice", "bob", "carol"} {
		p := Process{PID: int32(100 + i), Start: 1000}
		if err := s.AddPending(Pending{Owner: at(p, monitor), User: u, Service: "sshd"}); err != nil {
			t.Fatal(err)
		}
	}
	users := func(listed ...string) []string {
		t.Helper()
		ps, err := s.PendingUsers(func(u string) bool {
			for _, l := range listed {
				if l == u {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.User)
		}
		return out
	}
	if got := users(); len(got) != 3 {
		t.Fatalf("pending = %v", got)
	}
	s.RemovePending(at(Process{PID: 101, Start: 9}, monitor)) // bob's pid, another process: nothing
	if got := users(); len(got) != 3 {
		t.Fatalf("a stranger removed a pending login: %v", got)
	}
	s.RemovePending(at(monitor, Process{})) // the parent of a pending login closes it
	if got := users(); len(got) != 3 {
		t.Fatalf("%v", got)
	}
	s.RemovePending(at(Process{PID: 101, Start: 1000}, monitor)) // bob's session closed
	if got := users("carol"); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("pending = %v, want [alice]", got)
	}
	c.add(PendingTTL + time.Second)
	if got := users(); len(got) != 0 {
		t.Fatalf("pending = %v after the TTL", got)
	}
}

func TestNumberLock(t *testing.T) {
	s, _ := openTest(t)
	unlock, err := s.LockNumber(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.LockNumber(ctx); err == nil {
		t.Fatal("a second holder got the lock")
	}
	unlock()
	unlock2, err := s.LockNumber(context.Background())
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}

func TestPINLimit(t *testing.T) {
	s, c := openTest(t)
	for i := 0; i < PINsPerWindow; i++ {
		done, err := s.TakePIN(context.Background(), "alice")
		if err != nil {
			t.Fatalf("PIN %d: %v", i+1, err)
		}
		done(true)
	}
	if _, err := s.TakePIN(context.Background(), "alice"); err == nil {
		t.Fatal("a PIN over the limit")
	}
	done, err := s.TakePIN(context.Background(), "bob") // another user has their own count
	if err != nil {
		t.Fatal(err)
	}
	done(false)
	c.add(PINWindow + time.Second)
	done, err = s.TakePIN(context.Background(), "alice")
	if err != nil {
		t.Fatalf("after the window: %v", err)
	}
	done(true)
}

func TestPINLimitConcurrent(t *testing.T) {
	s, _ := openTest(t)
	var wg sync.WaitGroup
	var mailed atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := s.TakePIN(context.Background(), "alice")
			if err == nil {
				mailed.Add(1)
				time.Sleep(time.Millisecond)
				done(true)
			}
		}()
	}
	wg.Wait()
	if mailed.Load() != PINsPerWindow {
		t.Fatalf("%d PINs taken concurrently, want %d", mailed.Load(), PINsPerWindow)
	}
}

// TestWriteFailureIsAnError: a record that could not be put in place is an
// error for the writer (a login let in under NUMBER and not counted would
// let the next one past the limit).
func TestWriteFailureIsAnError(t *testing.T) {
	s, _ := openTest(t)
	owner := at(kbdint, monitor)
	// a directory where the record's file must go: the rename fails
	blocker := filepath.Join(s.Dir(), pendingDir, owner.key(kbdint))
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPending(Pending{Owner: owner, User: "alice"}); err == nil {
		t.Fatal("AddPending reported success without a record")
	}
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), pendingDir))
	if len(entries) != 1 {
		t.Errorf("a temporary file was left: %v", entries)
	}
}

// TestReadersLeaveFilesBeingWritten: listing a kind's records never takes
// or removes a file another process is still writing.
func TestReadersLeaveFilesBeingWritten(t *testing.T) {
	s, _ := openTest(t)
	s.AddPending(Pending{Owner: at(kbdint, monitor), User: "alice"})
	s.AddApproval(Approval{Owner: at(kbdint, monitor), User: "alice", RHost: "h"})
	var partial []string
	for _, kind := range []string{pendingDir, approvedDir} {
		p := filepath.Join(s.Dir(), kind, tempPrefix+"being-written.123")
		if err := os.WriteFile(p, []byte(`{"us`), 0o600); err != nil {
			t.Fatal(err)
		}
		partial = append(partial, p)
	}
	if ps, err := s.PendingUsers(func(string) bool { return false }); err != nil || len(ps) != 1 {
		t.Fatalf("pending %v, %v", ps, err)
	}
	if ok, err := s.Approved("alice", "h", everyoneAlive, func() (bool, error) { return true, nil }); err != nil || !ok {
		t.Fatalf("approved %v, %v", ok, err)
	}
	s.ReleaseApproval(at(brother, monitor))
	for _, p := range partial {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a file being written was removed: %v", err)
		}
	}
}

// TestPINNotCountedNotMailed: a PIN whose reservation cannot be recorded
// is refused; one given back (the mail failed) does not count.
func TestPINNotCountedNotMailed(t *testing.T) {
	s, _ := openTest(t)
	for i := 0; i < 2*PINsPerWindow; i++ {
		done, err := s.TakePIN(context.Background(), "bob")
		if err != nil {
			t.Fatalf("PIN %d given back each time, then refused: %v", i+1, err)
		}
		done(false)
	}
	blocker := filepath.Join(s.Dir(), pinsDir, "616c696365") // hex("alice")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakePIN(context.Background(), "alice"); err == nil {
		t.Fatal("a PIN that cannot be counted was allowed")
	}
}

// TestEngines: a login's interpreter is found by the same rule as its
// decisions, and by its own process alone at pam_end.
func TestEngines(t *testing.T) {
	s, _ := openTest(t)
	sock, err := s.EngineSocket()
	if err != nil {
		t.Fatal(err)
	}
	e := Engine{Owner: at(kbdint, monitor), LoginID: "E1", Socket: sock, Process: Process{PID: 900, Start: 9}, Path: "/usr/bin/python3"}
	if err := s.SaveEngine(e); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		caller   Login
		handleID string
		want     bool
	}{
		{"the owner", at(kbdint, monitor), "E1", true},
		{"its parent (sshd's monitor), no id", at(monitor, Process{}), "", true},
		{"a sibling", at(brother, monitor), "E1", false},
		{"the owner on a new handle", at(kbdint, monitor), "", false},
		{"the owner at pam_end", at(kbdint, monitor), AnyHandle, true},
		{"the parent at pam_end", at(monitor, Process{}), AnyHandle, true},
		{"a sibling at pam_end", at(brother, monitor), AnyHandle, false},
	} {
		if _, ok := s.FindEngine(tt.caller, tt.handleID); ok != tt.want {
			t.Errorf("%s: found %v", tt.name, ok)
		}
	}
	os.WriteFile(sock, nil, 0o600)
	s.ForgetEngine(e)
	if _, ok := s.FindEngine(at(kbdint, monitor), "E1"); ok {
		t.Error("found after ForgetEngine")
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("the socket was left")
	}
}

// TestEngineParentSlot: a sibling's new engine never takes the parent's
// slot from a live one (sshd's session shell runs setcred beside the
// keyboard-interactive child whose engine the monitor uses).
func TestEngineParentSlot(t *testing.T) {
	s, _ := openTest(t)
	me, err := Identifier{}.Identify(int32(os.Getpid()), "0x1")
	if err != nil {
		t.Fatal(err)
	}
	first := Engine{Owner: at(kbdint, monitor), LoginID: "E1", Socket: "/a", Process: me.Self}
	second := Engine{Owner: at(brother, monitor), LoginID: "E2", Socket: "/b", Process: Process{PID: 999999, Start: 1}}
	s.SaveEngine(first)
	s.SaveEngine(second)
	if e, ok := s.FindEngine(at(monitor, Process{}), ""); !ok || e.Socket != "/a" {
		t.Fatalf("the monitor finds %+v, %v; want its own engine /a", e, ok)
	}
	if e, ok := s.FindEngine(at(brother, monitor), "E2"); !ok || e.Socket != "/b" {
		t.Fatalf("the sibling finds %+v, %v", e, ok)
	}
	// a dead engine's slot is taken
	s, _ = openTest(t)
	s.SaveEngine(Engine{Owner: at(kbdint, monitor), LoginID: "E0", Socket: "/z", Process: Process{PID: 999997, Start: 1}})
	s.SaveEngine(Engine{Owner: at(Process{PID: 300, Start: 3}, monitor), LoginID: "E3", Socket: "/c", Process: Process{PID: 999998, Start: 1}})
	if e, ok := s.FindEngine(at(monitor, Process{}), ""); !ok || e.Socket != "/c" {
		t.Fatalf("after a dead one: %+v, %v", e, ok)
	}
}

// BenchmarkDecision is a login's first phase in the run directory: no
// record found, then its decision kept (on tmpfs, where /run is).
func BenchmarkDecision(b *testing.B) {
	base := "/dev/shm"
	if _, err := os.Stat(base); err != nil {
		base = b.TempDir()
	}
	dir, err := os.MkdirTemp(base, "loginstate-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	s, err := Open(filepath.Join(dir, "run"), nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		owner := at(Process{PID: int32(1000 + i%50000), Start: 7000}, monitor)
		q := Query{Caller: owner, Config: "cfg", User: "alice", Service: "sshd", HandleID: "L1"}
		if _, ok := s.FindDecision(q); ok && i < 50000 {
			b.Fatal("found a record never written")
		}
		if err := s.SaveDecision(Decision{Owner: owner, Config: "cfg", User: "alice", Service: "sshd", Verdict: "OPEN", LoginID: "L1"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGrants(t *testing.T) {
	s, c := openTest(t)
	g := Grant{OwnerUID: 1000, OwnerName: "root", User: "alice", RHost: "192.0.2.1", Until: c.now().Add(8 * time.Hour), LoginID: "L1"}
	if err := s.AddGrant(g); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name        string
		uid         uint32
		user, rhost string
		maxAge      time.Duration
		want        bool
	}{
		{"the owner, the user, the host", 1000, "alice", "192.0.2.1", 8 * time.Hour, true},
		{"another desktop owner", 1001, "alice", "192.0.2.1", 8 * time.Hour, false},
		{"another user", 1000, "bob", "192.0.2.1", 8 * time.Hour, false},
		{"another host", 1000, "alice", "192.0.2.2", 8 * time.Hour, false},
		{"ASK_REMEMBER off now", 1000, "alice", "192.0.2.1", 0, false},
		{"ASK_REMEMBER lowered below its age", 1000, "alice", "192.0.2.1", time.Minute, true},
	} {
		if _, ok := s.Granted(tt.uid, tt.user, tt.rhost, tt.maxAge); ok != tt.want {
			t.Errorf("%s: granted %v, want %v", tt.name, ok, tt.want)
		}
	}
	c.add(2 * time.Minute)
	if _, ok := s.Granted(1000, "alice", "192.0.2.1", time.Minute); ok {
		t.Error("granted past a lowered ASK_REMEMBER")
	}
	if _, ok := s.Granted(1000, "alice", "192.0.2.1", 8*time.Hour); !ok {
		t.Error("not granted within its hours")
	}
	if err := s.AddGrant(Grant{OwnerUID: 1000, User: "bob", RHost: "", Until: c.now().Add(time.Hour)}); err == nil {
		t.Error("a grant for any host was kept")
	}
	s.AddGrant(Grant{OwnerUID: 1000, User: "bob", RHost: "192.0.2.9", Until: c.now().Add(time.Hour)})
	if all, err := s.Grants(); err != nil || len(all) != 2 || all[0].User != "bob" {
		t.Errorf("Grants = %+v, %v; want bob's (ends first), then alice's", all, err)
	}
	revoked, err := s.RevokeGrants(func(g Grant) bool { return g.User == "alice" })
	if err != nil || len(revoked) != 1 || revoked[0].User != "alice" {
		t.Errorf("RevokeGrants = %+v, %v", revoked, err)
	}
	if _, ok := s.Granted(1000, "alice", "192.0.2.1", 8*time.Hour); ok {
		t.Error("granted after its revocation")
	}
	c.add(8 * time.Hour)
	if _, ok := s.Granted(1000, "bob", "192.0.2.9", 168*time.Hour); ok {
		t.Error("granted past its Until")
	}
	if all, _ := s.Grants(); len(all) != 0 {
		t.Errorf("expired grants listed: %+v", all)
	}
}
