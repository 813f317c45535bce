package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/outbox"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/remotelog"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/rfc5424"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/webhook"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// Auditor sends the service's decisions (audit.ServeDecision) where the
// module's config sends its own events: AUDIT_LOG (JSON lines), WEBHOOK
// and SYSLOG_SERVER (through the outbox in the spool directory, as the
// helper does, and delivered from here). The PAM stack's module writes its
// own decision events for the same transaction; these add what only the
// service knows: the endpoint, rate limits, tokens and /authenticate,
// which runs no PAM.
//
// Events are written by one goroutine from a bounded queue, so a slow
// disk never holds a request and a flood of requests never grows memory:
// past the queue, events are dropped, counted
// (pamac_serve_audit_dropped_total) and logged once a minute. Writing
// failures are log lines, never refusals, as in the module.
type Auditor struct {
	cfg     AuditConfig
	ch      chan audit.Event
	kick    chan struct{}
	done    chan struct{}
	host    string
	pid     int
	metrics *Metrics

	// settings and when they were read (the writer's alone)
	settings rules.Settings
	readAt   time.Time
	readErr  string

	mu       sync.Mutex
	dropped  int
	lastDrop time.Time
	closed   bool
	said     map[string]time.Time // throttled log lines: when each was last said
}

// AuditConfig says where the settings are.
type AuditConfig struct {
	Conf  string // the module's config ("" is rules.DefaultPath)
	Spool string // the spool directory (the outbox is its outbox/)
	Logf  func(format string, args ...any)
	// insecureSkipOwnerCheck: tests not run as root
	insecureSkipOwnerCheck bool
}

// auditQueue bounds the events waiting to be written.
const auditQueue = 4096

// settingsAge: the config is read again at most this often, so an
// AUDIT_LOG added or changed applies without a restart.
const settingsAge = 5 * time.Second

// NewAuditor starts the writer and the deliverer; Close stops them.
func NewAuditor(cfg AuditConfig, m *Metrics) *Auditor {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	host, _ := os.Hostname()
	a := &Auditor{cfg: cfg, ch: make(chan audit.Event, auditQueue), kick: make(chan struct{}, 1),
		done: make(chan struct{}), host: host, pid: os.Getpid(), metrics: m}
	go a.write()
	go a.deliver()
	return a
}

// Emit queues e; it never blocks. After Close (a request that outlived
// the shutdown) the event is dropped.
func (a *Auditor) Emit(e audit.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Login, e.Host, e.PID = audit.NewLoginID(), a.host, a.pid
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	select {
	case a.ch <- e:
	default:
		if a.metrics != nil {
			a.metrics.auditLost.Inc()
		}
		a.dropped++
		if time.Since(a.lastDrop) > time.Minute {
			a.cfg.Logf("serve: audit: the queue is full; %d events dropped", a.dropped)
			a.dropped, a.lastDrop = 0, time.Now()
		}
	}
}

// logf says a writing or sending problem at most once a minute for each
// kind of problem (key): a spool directory the service may not write
// would otherwise be a line per event.
func (a *Auditor) logf(key, format string, args ...any) {
	a.mu.Lock()
	last := a.said[key]
	now := time.Now()
	if now.Sub(last) < time.Minute {
		a.mu.Unlock()
		return
	}
	if a.said == nil {
		a.said = map[string]time.Time{}
	}
	a.said[key] = now
	a.mu.Unlock()
	a.cfg.Logf(format+" (said at most once a minute)", args...)
}

// Close writes what is queued (waiting at most a few seconds) and stops.
func (a *Auditor) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	close(a.ch)
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
	}
}

func (a *Auditor) write() {
	defer close(a.done)
	for e := range a.ch {
		batch := []audit.Event{e}
	more:
		for len(batch) < 256 {
			select {
			case e, ok := <-a.ch:
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		a.writeBatch(batch)
	}
}

func (a *Auditor) load() rules.Settings {
	if time.Since(a.readAt) < settingsAge {
		return a.settings
	}
	a.readAt = time.Now()
	if a.cfg.Conf == "" && missing(rules.DefaultPath) && missing(rules.LegacyPath) {
		return a.settings // no config: no audit destinations
	}
	cfg, err := rules.Load(rules.LoadOptions{Path: a.cfg.Conf, InsecureSkipOwnerCheck: a.cfg.insecureSkipOwnerCheck})
	switch {
	case err == nil:
		a.settings, a.readErr = cfg.Settings, ""
	default:
		// the last good settings stay; said once per change of error
		if msg := err.Error(); msg != a.readErr {
			a.cfg.Logf("serve: audit: the config: %v (the last settings read stay)", err)
			a.readErr = msg
		}
	}
	return a.settings
}

func missing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

func (a *Auditor) writeBatch(batch []audit.Event) {
	s := a.load()
	if s.AuditLog != "" {
		if err := audit.AppendFile(s.AuditLog, batch...); err != nil {
			a.logf("audit log", "serve: audit log %s: %v", s.AuditLog, err)
		}
	}
	if s.Webhook == "" && s.SyslogServer == "" {
		return
	}
	dir := filepath.Join(a.cfg.Spool, "outbox")
	put := false
	for _, e := range batch {
		var items []outbox.Item
		if s.Webhook != "" {
			body, err := json.Marshal(e)
			if err != nil {
				a.logf("webhook json", "serve: webhook: %v (the event is not sent)", err)
			} else {
				items = append(items, outbox.Item{Kind: outbox.Webhook, Dest: s.Webhook, KeyFile: s.WebhookKey, Body: body})
			}
		}
		if s.SyslogServer != "" {
			items = append(items, outbox.Item{Kind: outbox.Syslog, Dest: s.SyslogServer, CAFile: s.SyslogCA,
				CertFile: s.SyslogCert, CertKeyFile: s.SyslogKey, Timeout: s.SyslogTimeout.Seconds(),
				Body: []byte(rfc5424.Format(e))})
		}
		for _, it := range items {
			if err := outbox.Put(dir, it); err != nil {
				a.logf("put "+it.Kind, "serve: %s to %s: %v (not sent)", it.Kind, it.Dest, err)
				continue
			}
			put = true
		}
	}
	if put {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

// deliver sends what waits in the outbox after each batch, and again a
// minute after a receiver failed. Another deliverer (the helper's) at work
// on the same outbox sends ours too (outbox.Deliver looks again after each
// pass).
func (a *Auditor) deliver() {
	var syslog remotelog.Sender
	defer syslog.Close()
	dir := filepath.Join(a.cfg.Spool, "outbox")
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-a.kick:
		case <-retry.C:
		case <-a.done:
			return
		}
		rep, err := outbox.Deliver(dir, a.sendFunc(&syslog), time.Now().Add(2*time.Minute))
		if err != nil && !errors.Is(err, outbox.ErrBusy) {
			a.cfg.Logf("serve: deliverer: %v", err)
			continue
		}
		for receiver, err := range rep.Failed {
			a.cfg.Logf("serve: %s: %v (kept for the next try)", receiver, err)
		}
		for _, why := range rep.Dropped {
			a.cfg.Logf("serve: deliverer: dropped a message: %s", why)
		}
		if len(rep.Failed) > 0 {
			retry.Reset(time.Minute)
		}
	}
}

// sendFunc sends webhooks and syslog lines as the helper's deliverer does
// (pammod/helper's runDeliver, which this package may not import); mail
// is not the service's.
func (a *Auditor) sendFunc(syslog *remotelog.Sender) outbox.Send {
	return func(it outbox.Item) error {
		timeout := 5 * time.Second
		if it.Timeout > 0 {
			timeout = time.Duration(it.Timeout * float64(time.Second))
		}
		switch it.Kind {
		case outbox.Webhook:
			var key []byte
			if it.KeyFile != "" {
				data, err := trust.ReadFile(it.KeyFile, rules.MaxFileSize)
				if err != nil {
					return fmt.Errorf("WEBHOOK_SECRET: %w", err)
				}
				key = []byte(strings.TrimSpace(string(data)))
			}
			return webhook.Post(it.Dest, key, it.Body, timeout)
		case outbox.Syslog:
			for _, f := range [][2]string{{"SYSLOG_CA", it.CAFile}, {"SYSLOG_CERT", it.CertFile}, {"SYSLOG_KEY", it.CertKeyFile}} {
				if f[1] != "" {
					if err := trust.File(f[1]); err != nil {
						return fmt.Errorf("%s %v", f[0], err)
					}
				}
			}
			return syslog.Send(it.Dest, remotelog.Options{CAFile: it.CAFile, CertFile: it.CertFile, KeyFile: it.CertKeyFile,
				Timeout: timeout}, string(it.Body))
		}
		return fmt.Errorf("not the service's kind of message %q", it.Kind)
	}
}
