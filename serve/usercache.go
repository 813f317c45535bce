package serve

import (
	"sync"
	"time"
)

// userCache keeps, for POST /authenticate, what NSS said of a user (uid
// and groups) for a few seconds. kube-apiserver asks for every token it
// has not cached, and each answer took getpwnam_r, getgrouplist and a
// getgrgid_r per group: through files that is most of a TokenReview's
// time, through LDAP or SSSD far more. kube-apiserver itself keeps our
// answers for --authentication-token-webhook-cache-ttl (2 minutes by
// default), so a TTL of seconds here hardly moves how long a removed user
// or group goes on counting. Only what NSS found is kept: a user NSS
// lacks, and an error, are asked again every time. A nil *userCache keeps
// nothing.
type userCache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	users map[string]cachedUser
}

type cachedUser struct {
	uid    string
	groups []string // never changed once kept
	until  time.Time
}

// maxCachedUsers bounds the cache: a flood of distinct valid tokens must
// not grow it without end.
const maxCachedUsers = 10000

func newUserCache(ttl time.Duration, now func() time.Time) *userCache {
	if ttl <= 0 {
		return nil
	}
	return &userCache{ttl: ttl, now: now, users: map[string]cachedUser{}}
}

// get returns what NSS said of name less than ttl ago.
func (c *userCache) get(name string) (uid string, groups []string, ok bool) {
	if c == nil {
		return "", nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[name]
	if !ok || !c.now().Before(u.until) {
		return "", nil, false
	}
	return u.uid, u.groups, true
}

// put keeps what NSS said of name.
func (c *userCache) put(name, uid string, groups []string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.users) >= maxCachedUsers {
		for n, u := range c.users {
			if !now.Before(u.until) {
				delete(c.users, n)
			}
		}
		if len(c.users) >= maxCachedUsers {
			clear(c.users)
		}
	}
	c.users[name] = cachedUser{uid: uid, groups: groups, until: now.Add(c.ttl)}
}
