package serve

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAuthenticateNSSCache: with --nss-cache-ttl, a user NSS found keeps
// counting with the uid and groups of then until the TTL has passed, and
// no longer; a user NSS lacks or an NSS error is asked again every time;
// without it, every TokenReview asks NSS.
func TestAuthenticateNSSCache(t *testing.T) {
	clock := time.Now()
	now := func() time.Time { return clock }
	for _, ttl := range []time.Duration{0, 10 * time.Second} {
		g := fakeGroups{"alice": {"alice", "admins"}}
		u := fakeUsers{"alice": "1000"}
		iss := kubeIssuer(t, kubeKey, App, "k8s", clock)
		s := New(Config{Groups: g, Users: u, Tokens: iss, Now: now, NSSCacheTTL: ttl})
		alice, _ := iss.IssueFor("alice", nil, time.Minute)
		carol, _ := iss.IssueFor("carol", nil, time.Minute)
		authenticated := func() (bool, string) {
			t.Helper()
			_, out, _ := do(s, "POST", "/authenticate", review("authentication.k8s.io/v1", alice, "k8s"))
			st, _ := out["status"].(map[string]any)
			return st["authenticated"] == true, fmt.Sprint(st["user"])
		}
		if ok, user := authenticated(); !ok || !strings.Contains(user, "admins") {
			t.Fatalf("ttl %v: alice: %v %s", ttl, ok, user)
		}
		// NSS changes: alice leaves admins, then NSS loses her
		g["alice"] = []string{"alice"}
		ok, user := authenticated()
		if cached := ttl > 0; !ok || strings.Contains(user, "admins") != cached {
			t.Errorf("ttl %v: alice after leaving admins: %v %s", ttl, ok, user)
		}
		delete(u, "alice")
		clock = clock.Add(ttl - time.Millisecond)
		if ok, _ := authenticated(); ok != (ttl > 0) {
			t.Errorf("ttl %v: alice gone from NSS, just within the TTL: %v", ttl, ok)
		}
		clock = clock.Add(time.Millisecond)
		if ok, _ := authenticated(); ok {
			t.Errorf("ttl %v: alice gone from NSS, the TTL over: authenticated", ttl)
		}
		// a user NSS lacks is not kept: found as soon as NSS has her
		_, out, _ := do(s, "POST", "/authenticate", review("authentication.k8s.io/v1", carol, "k8s"))
		if st, _ := out["status"].(map[string]any); st["authenticated"] != false {
			t.Errorf("ttl %v: carol, unknown: %v", ttl, st)
		}
		u["carol"], g["carol"] = "1003", []string{"carol"}
		_, out, _ = do(s, "POST", "/authenticate", review("authentication.k8s.io/v1", carol, "k8s"))
		if st, _ := out["status"].(map[string]any); st["authenticated"] != true {
			t.Errorf("ttl %v: carol, now in NSS: %v", ttl, st)
		}
		clock = time.Now()
	}
}

func TestUserCacheBound(t *testing.T) {
	clock := time.Now()
	c := newUserCache(time.Minute, func() time.Time { return clock })
	for i := range maxCachedUsers {
		c.put(fmt.Sprint("u", i), "1", nil)
	}
	if _, _, ok := c.get("u0"); !ok {
		t.Fatal("u0 not kept")
	}
	c.put("one-more", "2", nil)
	if len(c.users) > maxCachedUsers {
		t.Errorf("%d users kept, at most %d", len(c.users), maxCachedUsers)
	}
	if uid, _, ok := c.get("one-more"); !ok || uid != "2" {
		t.Errorf("the newest: %q %v", uid, ok)
	}
	if newUserCache(0, time.Now) != nil {
		t.Error("a TTL of 0 keeps users")
	}
	var none *userCache
	none.put("x", "1", nil)
	if _, _, ok := none.get("x"); ok {
		t.Error("a nil cache keeps users")
	}
}
