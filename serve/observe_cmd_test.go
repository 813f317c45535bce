package serve

import (
	"io"
	"testing"
	"time"
)

func TestParseObserve(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  string // PAMAC_SERVE_RATE_STORE
		ok   bool
	}{
		{nil, "", true},
		{[]string{"--rate-store", "redis://:pw@127.0.0.1:6379/0"}, "", true},
		{[]string{"--rate-store", "rediss://cache.example.org:6380"}, "", true},
		{[]string{"--rate-store", "unix:///run/redis/redis.sock"}, "", true},
		{[]string{"--rate-store", "off"}, "", true},
		{[]string{"--rate-store", "memcached://x"}, "", false},
		{[]string{"--rate-store", "redis"}, "", false},
		{nil, "redis://127.0.0.1:6379", true},
		{nil, "mongodb://x", false},
		{[]string{"--rate-limit", "0"}, "", false},
		{[]string{"--rate-burst", "0"}, "", false},
		{[]string{"--rate-backoff", "10m", "--rate-max-backoff", "1m"}, "", false},
		{[]string{"--rate-backoff", "0s"}, "", false},
		{[]string{"--rate-limit", "0", "--rate-store", "off"}, "", true},
		{[]string{"--rate-max-backoff", "1h"}, "", true}, // forget grows to match
		{[]string{"--metrics-listen", "127.0.0.1:9464"}, "", true},
		{[]string{"--metrics-listen", "9464"}, "", false},
		{[]string{"--statsd", "127.0.0.1:8125", "--statsd-prefix", "web"}, "", true},
		{[]string{"--disable-mlock"}, "", true},
	} {
		t.Setenv("PAMAC_SERVE_LISTEN", "127.0.0.1:8443")
		t.Setenv("PAMAC_SERVE_RATE_STORE", tt.env)
		if tt.env == "" {
			t.Setenv("PAMAC_SERVE_RATE_STORE", "memory")
		}
		o, err := parse(tt.args, io.Discard)
		if (err == nil) != tt.ok {
			t.Errorf("%v (env %q): %v", tt.args, tt.env, err)
		}
		if err == nil && o.observe.rateStore != "off" && o.observe.policy.Forget < o.observe.policy.MaxBackoff {
			t.Errorf("%v: forget %v < max backoff %v", tt.args, o.observe.policy.Forget, o.observe.policy.MaxBackoff)
		}
	}
	o, err := parse(nil, io.Discard)
	if err != nil || o.observe.policy != DefaultPolicy() || o.observe.rateStore != "memory" || o.observe.disableMlock {
		t.Errorf("defaults: %+v %v", o.observe, err)
	}
	if DefaultPolicy().valid() != nil || DefaultPolicy().MaxBackoff != 5*time.Minute {
		t.Error("the default policy")
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:hunter2@host:6379/0": "redis://***@host:6379/0",
		"redis://u:p@ss@host:6379":     "redis://***@host:6379",
		"redis://host:6379":            "redis://host:6379",
		"unix:///run/redis/redis.sock": "unix:///run/redis/redis.sock",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
