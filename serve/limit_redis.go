package serve

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStore keeps the budgets in Redis or Valkey (--rate-store
// redis://, rediss://, unix://), so replicas behind a load balancer share
// them: failures on one replica block the user on all. Each key is a hash
// (tat, failures, last failure, blocked until) that expires when nothing
// in it matters any more, so Redis holds no more than the active keys.
// Every step is one Lua script, atomic in Redis, on Redis's own clock
// (TIME): replicas whose clocks differ still agree. A single server (or a
// primary with replicas) is expected; Redis Cluster would need the keys of
// one request in one slot, which they are not.
type redisStore struct {
	c      *redis.Client
	p      Policy
	prefix string
}

// redisTimeout bounds every call: a store that does not answer in time is
// unavailable, and the request is refused (fail closed).
const redisTimeout = 2 * time.Second

func newRedisStore(url string, p Policy) (*redisStore, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("--rate-store: %v", err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
	opt.MaxRetries, opt.DialerRetries = 1, 1
	return &redisStore{c: redis.NewClient(opt), p: p, prefix: "pamac:rl:"}, nil
}

func us(d time.Duration) int64 { return d.Microseconds() }

// luaNow is the server's time in microseconds.
const luaNow = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function keep(k, us)
  local need = math.ceil(us / 1000) + 1
  if redis.call('PTTL', k) < need then redis.call('PEXPIRE', k, need) end
end
`

// takeScript: ARGV interval, tolerance (µs). Returns {wait µs, index of
// the limiting key (1-based), 0 when allowed}.
var takeScript = redis.NewScript(luaNow + `
local interval, tol = tonumber(ARGV[1]), tonumber(ARGV[2])
local tats = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('HMGET', k, 'tat', 'b')
  local b = tonumber(v[2]) or 0
  if now < b then return {b - now, i} end
  local tat = tonumber(v[1]) or 0
  if tat < now then tat = now end
  if tat - now > tol then return {tat - now - tol, i} end
  tats[i] = tat
end
for i, k in ipairs(KEYS) do
  local tat = tats[i] + interval
  redis.call('HSET', k, 'tat', tat)
  keep(k, tat - now)
end
return {0, 0}
`)

// failScript: ARGV free failures (a user's, an address's), backoff, max
// backoff, forget (µs).
var failScript = redis.NewScript(luaNow + `
local free, addrfree, backoff, max, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
for _, k in ipairs(KEYS) do
  local v = redis.call('HMGET', k, 'f', 'lf')
  local f, lf = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  if f > 0 and now - lf > forget then f = 0 end
  f = f + 1
  redis.call('HSET', k, 'f', f, 'lf', now)
  local n = f - free
  if string.find(k, ':addr:', 1, true) then n = f - addrfree end
  if n > 0 then
    local d = max
    if n <= 40 then d = math.min(backoff * 2 ^ (n - 1), max) end
    redis.call('HSET', k, 'b', now + d)
  end
  keep(k, forget)
end
return 0
`)

func (s *redisStore) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = s.prefix + k
	}
	return out
}

func (s *redisStore) Take(ctx context.Context, keys []string) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	res, err := takeScript.Run(ctx, s.c, s.keys(keys), us(s.p.interval()), us(s.p.tolerance())).Int64Slice()
	if err != nil {
		return 0, "", fmt.Errorf("%w: %v", ErrStore, err)
	}
	if len(res) != 2 || res[1] < 0 || res[1] > int64(len(keys)) {
		return 0, "", fmt.Errorf("%w: unexpected answer %v", ErrStore, res)
	}
	if res[1] == 0 {
		return 0, "", nil
	}
	return time.Duration(res[0]) * time.Microsecond, keys[res[1]-1], nil
}

func (s *redisStore) Fail(ctx context.Context, keys []string) error {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	err := failScript.Run(ctx, s.c, s.keys(keys), s.p.free(limitKey(keyUser, "")), s.p.free(limitKey(keyAddr, "")), us(s.p.Backoff), us(s.p.MaxBackoff), us(s.p.Forget)).Err()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	return nil
}

func (s *redisStore) Clear(ctx context.Context, keys []string) error {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	pipe := s.c.Pipeline()
	for _, k := range s.keys(keys) {
		pipe.HDel(ctx, k, "f", "lf", "b")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	return nil
}

func (s *redisStore) Close() error { return s.c.Close() }

// redactURL is the store's URL without its password, for logs.
func redactURL(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		if at := strings.LastIndex(url, "@"); at > i {
			return url[:i+3] + "***@" + url[at+1:]
		}
	}
	return url
}

// quietRedis silences go-redis's own log (its logger is the package's
// alone, redis.SetLogger): it writes a line per failed dial, and the
// Limiter says once a minute that the store is down.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
