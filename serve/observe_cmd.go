package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// observeOptions are the serve verb's flags for the rate limits, the
// metrics, the audit trail and memory locking (each also from the
// environment, as every flag of the verb: PAMAC_SERVE_RATE_STORE, ...).
type observeOptions struct {
	rateStore                           string
	policy                              Policy
	metricsListen, statsd, statsdPrefix string
	conf, spool                         string
	disableMlock                        bool
}

// DefaultSpoolDir is the helper's spool directory (pammod/helper's
// DefaultSpoolDir, which this package may not import): the service's
// webhook and syslog events wait in the same outbox.
const DefaultSpoolDir = "/var/spool/pam-accesscontrol"

func (o *observeOptions) flags(fs *flag.FlagSet) {
	p := DefaultPolicy()
	fs.StringVar(&o.rateStore, "rate-store", "memory", "where the rate limits are kept: memory, redis://[user:password@]host:port/db, rediss://..., unix:///path (shared by replicas), or off")
	fs.Float64Var(&o.policy.Rate, "rate-limit", p.Rate, "credential requests a second per user and per client address")
	fs.IntVar(&o.policy.Burst, "rate-burst", p.Burst, "credential requests at once per user and per client address")
	fs.IntVar(&o.policy.FreeFailures, "rate-failures", p.FreeFailures, "failures of a user before the backoff starts")
	fs.IntVar(&o.policy.AddrFreeFailures, "rate-address-failures", p.AddrFreeFailures, "failures from a client address before the backoff starts (an office behind NAT fails more often than one person)")
	fs.DurationVar(&o.policy.Backoff, "rate-backoff", p.Backoff, "the first backoff after --rate-failures failures; it doubles with each further one")
	fs.DurationVar(&o.policy.MaxBackoff, "rate-max-backoff", p.MaxBackoff, "the longest backoff")
	o.policy.Forget = p.Forget
	fs.StringVar(&o.metricsListen, "metrics-listen", "", "address of a separate plain-HTTP listener for GET /metrics (Prometheus); none by default")
	fs.StringVar(&o.statsd, "statsd", "", "host:port of a statsd collector (UDP) for beesly's metrics")
	fs.StringVar(&o.statsdPrefix, "statsd-prefix", "beesly", "the statsd metrics' prefix")
	fs.StringVar(&o.conf, "conf", "", "the module's config, whose AUDIT_LOG, WEBHOOK and SYSLOG_SERVER get the service's decisions (default: the module's)")
	fs.StringVar(&o.spool, "spool-dir", DefaultSpoolDir, "the spool directory whose outbox holds webhook and syslog events to be sent")
	fs.BoolVar(&o.disableMlock, "disable-mlock", false, "run without mlockall (memory may be swapped out, passwords with it)")
}

// check refuses what cannot run, before anything starts.
func (o *observeOptions) check() error {
	if o.policy.Forget < o.policy.MaxBackoff {
		o.policy.Forget = o.policy.MaxBackoff
	}
	switch {
	case o.rateStore == "memory" || o.rateStore == "off":
	case strings.HasPrefix(o.rateStore, "redis://"), strings.HasPrefix(o.rateStore, "rediss://"), strings.HasPrefix(o.rateStore, "unix://"):
	default:
		return fmt.Errorf("--rate-store %q: memory, off, redis://, rediss:// or unix://", redactURL(o.rateStore))
	}
	if o.rateStore != "off" {
		if err := o.policy.valid(); err != nil {
			return err
		}
	}
	if o.metricsListen != "" {
		if _, _, err := net.SplitHostPort(o.metricsListen); err != nil {
			return fmt.Errorf("--metrics-listen %q: %v", o.metricsListen, err)
		}
	}
	return nil
}

// setup fills cfg's Observe. A Redis store that does not answer at start
// is no reason to refuse to start (it may come up later), but it is said.
func (o *observeOptions) setup(cfg *Config, webService, kubeService string, logger *log.Logger) error {
	if err := o.check(); err != nil {
		return err
	}
	cfg.WebService, cfg.KubeService = webService, kubeService
	var st *Statsd
	if o.statsd != "" {
		var err error
		if st, err = NewStatsd(o.statsd, o.statsdPrefix); err != nil {
			return err
		}
	}
	cfg.Metrics = NewMetrics(st)
	switch o.rateStore {
	case "off":
		logger.Printf("serve: --rate-store off: no rate limits on the credential endpoints")
	case "memory":
		cfg.Limits = NewLimiter(newMemStore(o.policy, 0, nil), logger.Printf)
	default:
		redis.SetLogger(quietRedis{})
		rs, err := newRedisStore(o.rateStore, o.policy)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
		defer cancel()
		if err := rs.c.Ping(ctx).Err(); err != nil {
			logger.Printf("serve: --rate-store %s: %v; credential requests are refused with 503 until it answers", redactURL(o.rateStore), err)
		}
		cfg.Limits = NewLimiter(rs, logger.Printf)
	}
	cfg.Audit = NewAuditor(AuditConfig{Conf: o.conf, Spool: o.spool, Logf: logger.Printf}, cfg.Metrics)
	return nil
}

// start locks memory and starts the metrics listener; the returned stop
// ends what it started and what setup made.
func (o *observeOptions) start(cfg Config, logger *log.Logger) (stop func(), err error) {
	if o.disableMlock {
		logger.Printf("serve: --disable-mlock: memory is not locked; passwords may reach swap")
	} else if err := lockMemory(); err != nil {
		return nil, err
	}
	var ms *http.Server
	if o.metricsListen != "" && cfg.Metrics != nil {
		ln, err := net.Listen("tcp", o.metricsListen)
		if err != nil {
			return nil, fmt.Errorf("--metrics-listen: %v", err)
		}
		ms = &http.Server{Handler: cfg.Metrics.Handler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := ms.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Printf("serve: metrics: %v", err)
			}
		}()
		logger.Printf("serve: metrics at http://%s/metrics", ln.Addr())
	}
	return func() {
		if ms != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ms.Shutdown(ctx)
		}
		if cfg.Audit != nil {
			cfg.Audit.Close()
		}
		if cfg.Limits != nil {
			cfg.Limits.store.Close()
		}
		if cfg.Metrics != nil && cfg.Metrics.statsd != nil {
			cfg.Metrics.statsd.Close()
		}
	}, nil
}
