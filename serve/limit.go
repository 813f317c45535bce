package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"time"
)

// Rate limits on the credential endpoints (POST /auth, /renew, GET
// /token): two budgets per request, one for the user name and one for the
// client address (clientAddr, so --trusted-proxy decides whose
// X-Forwarded-For counts). Each budget is
//
//   - a request rate (GCRA, a token bucket with one timestamp: Rate a
//     second, Burst at once), and
//   - a backoff on failures: past FreeFailures refusals, each further one
//     blocks the key for Backoff, doubled each time up to MaxBackoff. A
//     success clears the user's failures (never the address's: an attacker
//     with one good account must not wash his address clean between
//     guesses at others). A key's failures are forgotten Forget after its
//     last one.
//
// A request either budget refuses gets 429 with Retry-After and never
// reaches PAM; a refused request uses none of either budget.
//
// POST /verify and /authenticate are not limited: they check a signature
// (HS256 with a secret of 32 bytes and more, EdDSA, ES256) that no one
// guesses at any rate, and /authenticate's client is kube-apiserver, one
// address for every user of the cluster: a 429 there would turn away
// everyone at once (and the webhook retries on 429, making it worse).

// Policy is the limits' arithmetic, the same in memory and in Redis.
type Policy struct {
	Rate         float64 // requests a second per key
	Burst        int     // requests at once per key
	FreeFailures int     // failures before the backoff starts
	// AddrFreeFailures is FreeFailures for an address (0: the same): an
	// office behind one NAT address fails more often than one person
	AddrFreeFailures int
	Backoff          time.Duration // the first block
	MaxBackoff       time.Duration // the longest block
	Forget           time.Duration // failures are forgotten this long after the last
}

// DefaultPolicy: a person typing never meets it; a script guessing gets
// about 10 tries in the first minute and one every 5 minutes after.
func DefaultPolicy() Policy {
	return Policy{Rate: 5, Burst: 10, FreeFailures: 3, AddrFreeFailures: 10, Backoff: time.Second, MaxBackoff: 5 * time.Minute, Forget: 15 * time.Minute}
}

func (p Policy) valid() error {
	if p.Rate <= 0 || p.Burst < 1 || p.FreeFailures < 0 || p.AddrFreeFailures < 0 || p.Backoff <= 0 || p.MaxBackoff < p.Backoff || p.Forget < p.MaxBackoff {
		return errors.New("rate limits: rate and burst must be positive, and backoff <= max backoff <= forget")
	}
	return nil
}

// interval is GCRA's emission interval, tolerance how far ahead of now
// the theoretical arrival time may run.
func (p Policy) interval() time.Duration  { return time.Duration(float64(time.Second) / p.Rate) }
func (p Policy) tolerance() time.Duration { return p.interval() * time.Duration(p.Burst-1) }

// free is how many failures key may have before the backoff.
func (p Policy) free(key string) int {
	if strings.HasPrefix(key, keyAddr+":") && p.AddrFreeFailures > 0 {
		return p.AddrFreeFailures
	}
	return p.FreeFailures
}

// block is how long key's failures'th failure blocks (0: not yet).
func (p Policy) block(key string, failures int) time.Duration {
	n := failures - p.free(key)
	if n <= 0 {
		return 0
	}
	if n > 40 {
		return p.MaxBackoff
	}
	d := float64(p.Backoff) * math.Pow(2, float64(n-1))
	if d > float64(p.MaxBackoff) {
		return p.MaxBackoff
	}
	return time.Duration(d)
}

// Key kinds: a budget per user name and per client address.
const (
	keyUser = "user"
	keyAddr = "addr"
)

// limitKey is the store's key for a user name or an address: a hash, so
// no name (whatever it holds: ':', '*', spaces, the other kind's prefix)
// can name another key, and every key has the same short length.
func limitKey(kind, value string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + value))
	return kind + ":" + hex.EncodeToString(h[:16])
}

// Store keeps the budgets: in memory (memStore) or in Redis (redisStore)
// for replicas behind a load balancer.
type Store interface {
	// Take spends one request of every key's budget, or none when one is
	// exhausted or blocked: then it says how long to wait, and which key.
	Take(ctx context.Context, keys []string) (wait time.Duration, limited string, err error)
	// Fail counts a refusal against every key.
	Fail(ctx context.Context, keys []string) error
	// Clear forgets the failures of keys (a user's good login).
	Clear(ctx context.Context, keys []string) error
	Close() error
}

// ErrStore: the limits' store did not answer; the request is refused
// (fail closed: without the budget no one knows whether to let it go).
var ErrStore = errors.New("the rate limit store is unavailable")
