package serve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

func TestPolicyBlock(t *testing.T) {
	p := Policy{Rate: 1, Burst: 1, FreeFailures: 3, Backoff: time.Second, MaxBackoff: 10 * time.Second, Forget: time.Minute}
	for _, tt := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {3, 0}, {4, time.Second}, {5, 2 * time.Second}, {6, 4 * time.Second}, {7, 8 * time.Second},
		{8, 10 * time.Second}, {100, 10 * time.Second}, {1 << 30, 10 * time.Second},
	} {
		if got := p.block(limitKey(keyUser, "alice"), tt.failures); got != tt.want {
			t.Errorf("block(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

// clock is a fake time for the memory store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func testPolicy() Policy {
	return Policy{Rate: 10, Burst: 3, FreeFailures: 2, Backoff: time.Second, MaxBackoff: 4 * time.Second, Forget: time.Minute}
}
func keysOf(user, addr string) []string { return (&Limiter{}).keys(user, addr) }
func take(s Store, k []string) (time.Duration, string) {
	w, key, err := s.Take(context.Background(), k)
	if err != nil {
		panic(err)
	}
	return w, key
}

// step is one thing done to a store and what must come of it.
type step struct {
	do      string // take, fail, clear, wait
	user    string
	addr    string
	d       time.Duration // wait
	limited string        // take: "" (allowed), "user" or "addr"
	wait    time.Duration // take: the wait it must say (when limited)
}

func TestMemStore(t *testing.T) {
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"burst then rate", []step{
			{do: "take", user: "alice", addr: "a"}, {do: "take", user: "alice", addr: "a"}, {do: "take", user: "alice", addr: "a"},
			{do: "take", user: "alice", addr: "a", limited: "user", wait: 100 * time.Millisecond},
			{do: "wait", d: 100 * time.Millisecond},
			{do: "take", user: "alice", addr: "a"},
			{do: "take", user: "alice", addr: "a", limited: "user", wait: 100 * time.Millisecond},
		}},
		{"an address's budget covers all users", []step{
			{do: "take", user: "u1", addr: "a"}, {do: "take", user: "u2", addr: "a"}, {do: "take", user: "u3", addr: "a"},
			{do: "take", user: "u4", addr: "a", limited: "addr", wait: 100 * time.Millisecond},
			{do: "take", user: "u4", addr: "b"},
		}},
		{"a refused request spends nothing", []step{
			{do: "take", user: "alice", addr: "a"}, {do: "take", user: "bob", addr: "a"}, {do: "take", user: "carol", addr: "a"},
			{do: "take", user: "alice", addr: "a", limited: "addr", wait: 100 * time.Millisecond},
			{do: "take", user: "alice", addr: "a", limited: "addr", wait: 100 * time.Millisecond},
			// alice's own budget was not spent by the refusals: two more from elsewhere
			{do: "take", user: "alice", addr: "b"}, {do: "take", user: "alice", addr: "c"},
			{do: "take", user: "alice", addr: "d", limited: "user", wait: 100 * time.Millisecond},
		}},
		{"backoff doubles up to the cap", []step{
			{do: "fail", user: "alice", addr: "a"}, {do: "fail", user: "alice", addr: "a"},
			{do: "wait", d: time.Second},
			{do: "take", user: "alice", addr: "b"},
			{do: "fail", user: "alice", addr: "a"},
			{do: "take", user: "alice", addr: "b", limited: "user", wait: time.Second},
			{do: "take", user: "bob", addr: "a", limited: "addr", wait: time.Second},
			{do: "wait", d: time.Second},
			{do: "fail", user: "alice", addr: "b"},
			{do: "take", user: "alice", addr: "c", limited: "user", wait: 2 * time.Second},
			{do: "fail", user: "alice", addr: "c"},
			{do: "take", user: "alice", addr: "d", limited: "user", wait: 4 * time.Second},
			{do: "fail", user: "alice", addr: "d"},
			{do: "take", user: "alice", addr: "e", limited: "user", wait: 4 * time.Second},
			{do: "wait", d: 4 * time.Second},
			{do: "take", user: "alice", addr: "e"},
		}},
		{"a success clears the user, not the address", []step{
			{do: "fail", user: "alice", addr: "a"}, {do: "fail", user: "alice", addr: "a"}, {do: "fail", user: "alice", addr: "a"},
			{do: "clear", user: "alice"},
			{do: "take", user: "alice", addr: "b"},
			{do: "take", user: "bob", addr: "a", limited: "addr", wait: time.Second},
		}},
		{"failures are forgotten", []step{
			{do: "fail", user: "alice", addr: "a"}, {do: "fail", user: "alice", addr: "a"},
			{do: "wait", d: time.Minute + time.Second},
			{do: "fail", user: "alice", addr: "a"}, {do: "fail", user: "alice", addr: "a"},
			{do: "take", user: "alice", addr: "a"},
			{do: "fail", user: "alice", addr: "a"},
			{do: "take", user: "alice", addr: "a", limited: "user", wait: time.Second},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			m := newMemStore(testPolicy(), 0, c.now)
			run(t, m, tt.steps, c.advance)
		})
	}
}

// run does steps on s; advance moves its time.
func run(t *testing.T, s Store, steps []step, advance func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	for i, st := range steps {
		k := keysOf(st.user, st.addr)
		switch st.do {
		case "take":
			wait, key := take(s, k)
			got := ""
			switch key {
			case "":
			case limitKey(keyUser, st.user):
				got = "user"
			case limitKey(keyAddr, st.addr):
				got = "addr"
			default:
				got = "?" + key
			}
			if got != st.limited {
				t.Fatalf("step %d %+v: limited %q", i, st, got)
			}
			if st.limited != "" && (wait > st.wait || wait < st.wait-50*time.Millisecond) {
				t.Fatalf("step %d %+v: wait %v", i, st, wait)
			}
		case "fail":
			if err := s.Fail(ctx, k); err != nil {
				t.Fatal(err)
			}
		case "clear":
			if err := s.Clear(ctx, k); err != nil {
				t.Fatal(err)
			}
		case "wait":
			advance(st.d)
		}
	}
}

// TestMemStoreBounded: a spray of user names never grows the store past
// its bound.
func TestMemStoreBounded(t *testing.T) {
	c := newClock()
	m := newMemStore(testPolicy(), 100, c.now)
	for i := 0; i < 10000; i++ {
		take(m, keysOf(fmt.Sprintf("user%d", i), ""))
		m.Fail(context.Background(), keysOf(fmt.Sprintf("user%d", i), ""))
		c.advance(time.Millisecond)
	}
	if n := m.len(); n > 100 {
		t.Fatalf("%d entries kept, want at most 100", n)
	}
	// the recent ones are kept
	m.Fail(context.Background(), keysOf("user9999", ""))
	m.Fail(context.Background(), keysOf("user9999", ""))
	if _, key := take(m, keysOf("user9999", "")); key == "" {
		t.Errorf("the most recent user lost its failures")
	}
}

// TestLimitKey: no user name can name another user's or an address's
// key, whatever it holds.
func TestLimitKey(t *testing.T) {
	shape := regexp.MustCompile(`^(user|addr):[0-9a-f]{32}$`)
	seen := map[string]string{}
	for _, tt := range []struct{ kind, value string }{
		{keyUser, "alice"}, {keyAddr, "alice"}, {keyUser, "alice\x00"}, {keyUser, "alice:x"},
		{keyUser, "addr:192.0.2.1"}, {keyAddr, "192.0.2.1"}, {keyUser, "user:alice"}, {keyUser, "*"},
		{keyUser, "alice\r\nDEL x"}, {keyUser, ""}, {keyAddr, ""}, {keyUser, strings.Repeat("a", 10000)},
	} {
		k := limitKey(tt.kind, tt.value)
		if !shape.MatchString(k) {
			t.Errorf("%q %q: key %q", tt.kind, tt.value, k)
		}
		id := tt.kind + "\x00" + tt.value
		if other, dup := seen[k]; dup {
			t.Errorf("%q and %q share the key %s", id, other, k)
		}
		seen[k] = id
	}
}

// startRedis runs a private redis-server on a unix socket in a temporary
// directory until the test ends; it returns its URL.
func startRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--dir", dir,
		"--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			return "unix://" + sock
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not come up")
	return ""
}

// TestRedisStore runs the memory store's cases that need no fake clock
// against a real Redis (its own clock), and the key layout.
func TestRedisStore(t *testing.T) {
	url := startRedis(t)
	p := Policy{Rate: 1, Burst: 3, FreeFailures: 2, Backoff: 2 * time.Second, MaxBackoff: 8 * time.Second, Forget: time.Minute}
	s, err := newRedisStore(url, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run(t, s, []step{
		{do: "take", user: "alice", addr: "a"}, {do: "take", user: "bob", addr: "a"}, {do: "take", user: "carol", addr: "a"},
		{do: "take", user: "dave", addr: "a", limited: "addr", wait: time.Second},
		{do: "take", user: "alice", addr: "b"}, {do: "take", user: "alice", addr: "c"},
		{do: "take", user: "alice", addr: "d", limited: "user", wait: time.Second},
		{do: "fail", user: "eve", addr: "x"}, {do: "fail", user: "eve", addr: "x"},
		{do: "take", user: "eve", addr: "y"},
		{do: "fail", user: "eve", addr: "x"},
		{do: "take", user: "eve", addr: "z", limited: "user", wait: 2 * time.Second},
		{do: "take", user: "frank", addr: "x", limited: "addr", wait: 2 * time.Second},
		{do: "fail", user: "eve", addr: "y"},
		{do: "take", user: "eve", addr: "z", limited: "user", wait: 4 * time.Second},
		{do: "clear", user: "eve"},
		{do: "take", user: "eve", addr: "z"},
		{do: "take", user: "frank", addr: "x", limited: "addr", wait: 2 * time.Second},
	}, func(time.Duration) { t.Fatal("no waiting with Redis's clock") })
	// what Redis holds: hashed keys under the prefix, each expiring
	keys, err := s.c.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^pamac:rl:(user|addr):[0-9a-f]{32}$`)
	for _, k := range keys {
		if !shape.MatchString(k) {
			t.Errorf("key %q", k)
		}
		if ttl := s.c.PTTL(context.Background(), k).Val(); ttl <= 0 || ttl > time.Minute+time.Second {
			t.Errorf("key %q expires in %v", k, ttl)
		}
	}
	// a refused request makes no key: users alice, bob, carol, eve and
	// addresses a, b, c, x, y, z (dave, frank and d were only refused)
	if len(keys) != 10 {
		t.Errorf("%d keys, want 10", len(keys))
	}
}

// TestRedisStoreDown: a store that does not answer is an error, fast.
func TestRedisStoreDown(t *testing.T) {
	redis.SetLogger(quietRedis{})
	s, err := newRedisStore("unix://"+filepath.Join(t.TempDir(), "none.sock"), testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = s.Take(context.Background(), keysOf("alice", "a"))
	if !errors.Is(err, ErrStore) {
		t.Errorf("Take: %v", err)
	}
	if err := s.Fail(context.Background(), keysOf("alice", "a")); !errors.Is(err, ErrStore) {
		t.Errorf("Fail: %v", err)
	}
	if d := time.Since(start); d > 2*redisTimeout {
		t.Errorf("took %v", d)
	}
}

// BenchmarkTake: what the limits add to a credential request (a Take
// before PAM and a Clear after a good login), in memory and in a real
// redis-server on a unix socket.
func BenchmarkTake(b *testing.B) {
	for _, store := range []string{"memory", "redis"} {
		b.Run(store, func(b *testing.B) {
			var s Store = newMemStore(DefaultPolicy(), 0, nil)
			if store == "redis" {
				rs, err := newRedisStore(startRedis(b), Policy{Rate: 1e9, Burst: 1e6, FreeFailures: 3, Backoff: time.Second, MaxBackoff: time.Minute, Forget: time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				defer rs.Close()
				s = rs
			}
			keys := keysOf("alice", "192.0.2.1")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := s.Take(context.Background(), keys); err != nil {
					b.Fatal(err)
				}
				s.Clear(context.Background(), keys[:1])
			}
		})
	}
}

// TestAddressFailures: an address may fail more often than a user before
// its backoff (an office behind NAT), in memory and in Redis alike.
func TestAddressFailures(t *testing.T) {
	p := Policy{Rate: 100, Burst: 100, FreeFailures: 1, AddrFreeFailures: 3, Backoff: time.Minute, MaxBackoff: time.Hour, Forget: time.Hour}
	steps := []step{
		{do: "fail", user: "u1", addr: "nat"}, {do: "fail", user: "u2", addr: "nat"}, {do: "fail", user: "u3", addr: "nat"},
		{do: "take", user: "u4", addr: "nat"},
		{do: "fail", user: "u1", addr: "home"},
		{do: "take", user: "u1", addr: "cafe", limited: "user", wait: time.Minute},
		{do: "fail", user: "u4", addr: "nat"},
		{do: "take", user: "u5", addr: "nat", limited: "addr", wait: time.Minute},
	}
	c := newClock()
	run(t, newMemStore(p, 0, c.now), steps, c.advance)
	rs, err := newRedisStore(startRedis(t), p)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	run(t, rs, steps, func(time.Duration) { t.Fatal("no waiting with Redis's clock") })
}
