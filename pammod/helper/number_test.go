package main

import (
	"context"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func TestPendingLogins(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	g := newNumberGuard(t.TempDir())
	g.now = func() time.Time { return now }
	call := func(pid int32, user string) protocol.Call {
		return protocol.Call{PID: pid, PPID: 1, Handle: "0xabc", Service: protocol.Some("sshd"), User: protocol.Some(user)}
	}
	for i, u := range []string{"alice", "bob", "carol"} {
		if err := g.add(call(int32(100+i), u), u); err != nil {
			t.Fatal(err)
		}
	}
	users := func(live []rules.Session) []string {
		p, err := g.pending(live)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range p {
			if !s.Live() {
				t.Errorf("pending %+v does not count as live", s)
			}
			out = append(out, s.User)
		}
		return out
	}
	if got := users(nil); len(got) != 3 {
		t.Fatalf("pending = %v", got)
	}
	g.remove(call(101, "bob")) // bob's session closed
	// logind lists carol now: her pending record is done
	if got := users([]rules.Session{{User: "carol", Class: "user", State: "active"}}); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("pending = %v, want [alice]", got)
	}
	now = now.Add(pendingTTL + time.Second) // alice never finished logging in
	if got := users(nil); len(got) != 0 {
		t.Fatalf("pending = %v after the TTL", got)
	}
}

func TestNumberLock(t *testing.T) {
	g := newNumberGuard(t.TempDir())
	unlock, err := g.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := g.lock(ctx); err == nil {
		t.Fatal("a second holder got the lock")
	}
	unlock()
	unlock2, err := g.lock(context.Background())
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}
