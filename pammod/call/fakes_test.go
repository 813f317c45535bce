package call

import (
	"context"
	"errors"
	"fmt"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail/notice"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// fakePAM is one process's copy of a PAM handle: the login id kept on it,
// and a user at the conversation who answers prompts from a list.
type fakePAM struct {
	user     string
	loginID  string
	answers  []string
	said     []string // every message, "style text"
	onPrompt func()   // runs at each prompt, before the answer
	convErr  error
	env      map[string]string // the PAM environment
	reads    int               // LoginID calls: each a round trip to a version 1 module
	// auth is how the application's last pam_authenticate on the handle
	// ended, as the module reports it: callAs keeps it as libpam would for
	// a stack of the module alone, or after a module that refuses the
	// password when wrongPassword is set.
	auth          protocol.AuthOutcome
	wrongPassword bool
	items         map[int32]string // PAM items set (PAM_AUTHTOK)
	itemReads     int
}

func (p *fakePAM) GetItem(item int32) (string, bool, error) {
	p.itemReads++
	v, ok := p.items[item]
	return v, ok, nil
}

func (p *fakePAM) SetItem(item int32, v string) error {
	if p.items == nil {
		p.items = map[int32]string{}
	}
	p.items[item] = v
	return nil
}

func (p *fakePAM) GetUser() (string, error) { return p.user, nil }

func (p *fakePAM) Converse(style int, text string) (string, error) {
	p.said = append(p.said, fmt.Sprintf("%d %s", style, text))
	if style != protocol.PromptEchoOff && style != protocol.PromptEchoOn {
		return "", nil
	}
	if p.convErr != nil {
		return "", p.convErr
	}
	if p.onPrompt != nil {
		p.onPrompt()
	}
	if len(p.answers) == 0 {
		return "", errors.New("the user answers nothing more")
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}

func (p *fakePAM) LoginID() (string, error) {
	p.reads++
	return p.loginID, nil
}

func (p *fakePAM) KeepLoginID(id string) error {
	p.loginID = id
	return nil
}

func (p *fakePAM) GetEnv(name string) (string, bool, error) {
	v, ok := p.env[name]
	return v, ok, nil
}

// fork is the handle as a forked child sees it: a copy.
func (p *fakePAM) fork() *fakePAM {
	return &fakePAM{user: p.user, loginID: p.loginID, auth: p.auth, env: p.env}
}

type fakeLog struct {
	mu     sync.Mutex
	lines  []string
	debug  bool
	fields []logging.Fields // each decision's journal fields
}

func (l *fakeLog) add(level, format string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}
func (l *fakeLog) Info(f string, a ...any) { l.add("info", f, a) }
func (l *fakeLog) Decision(fields logging.Fields, f string, a ...any) {
	l.add("info", f, a)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fields = append(l.fields, fields)
}
func (l *fakeLog) Error(f string, a ...any) { l.add("err", f, a) }
func (l *fakeLog) Debug(f string, a ...any) {
	if l.debug {
		l.add("debug", f, a)
	}
}
func (l *fakeLog) SetDebug(on bool) { l.debug = on }
func (l *fakeLog) Debugging() bool  { return l.debug }

// grep returns the lines that contain s.
func (l *fakeLog) grep(s string) []string {
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

type fakeGroups map[string][]string

func (g fakeGroups) UserGroups(user string) ([]string, error) {
	if gs, ok := g[user]; ok {
		return gs, nil
	}
	return nil, fmt.Errorf("no user %q", user)
}

// fakeNSS finds the users of a fakeGroups by name, in any case when fold
// (as SSSD's AD provider does), and fails with err when set.
type fakeNSS struct {
	groups fakeGroups
	fold   bool
	err    error
}

func (n *fakeNSS) UserName(name string) (string, bool, error) {
	if n.err != nil {
		return "", false, n.err
	}
	for u := range n.groups {
		if u == name || n.fold && strings.EqualFold(u, name) {
			return u, true, nil
		}
	}
	return "", false, nil
}

type fakeSessions struct {
	list []rules.Session
	err  error
}

func (s *fakeSessions) Sessions(context.Context) ([]rules.Session, error) { return s.list, s.err }

// fakeAsker is the desktop: an owner (or none) and their answer.
type fakeAsker struct {
	owner    *logind.Desktop
	ownerErr error
	answer   dbusapi.Decision
	askErr   error
	onAsk    func()
	asked    int
	last     dbusapi.Request // the last question
	informed []dbusapi.Event
}

func (a *fakeAsker) DesktopOwner(context.Context) (logind.Desktop, bool, error) {
	if a.owner == nil {
		return logind.Desktop{}, false, a.ownerErr
	}
	return *a.owner, true, a.ownerErr
}

func (a *fakeAsker) Ask(_ context.Context, _ logind.Desktop, r dbusapi.Request) (dbusapi.Decision, error) {
	a.asked++
	a.last = r
	if a.onAsk != nil {
		a.onAsk()
	}
	return a.answer, a.askErr
}

func (a *fakeAsker) Inform(_ context.Context, _ uint32, e dbusapi.Event) error {
	a.informed = append(a.informed, e)
	return nil
}

// fakeMail keeps the PINs "mailed".
type fakeMail struct {
	pins []string
	err  error
}

func (m *fakeMail) Send(_ context.Context, _ *rules.Config, n notice.Notice, _ string, _ []string, _ bool) error {
	if m.err != nil {
		return m.err
	}
	m.pins = append(m.pins, n.Secret)
	return nil
}

// host is a test machine: a config, a run directory, processes with
// pids, and the things outside the helper.
type host struct {
	t        *testing.T
	dir      string
	conf     string
	log      *fakeLog
	groups   fakeGroups
	nss      *fakeNSS // finds groups' users
	sessions *fakeSessions
	asker    *fakeAsker
	mail     *fakeMail
	now      time.Time
	procs    map[int32]loginstate.Login
	configs  *rules.Cache // nil: loaded every call, as by a helper run for one
	phases   Phases
	timeout  time.Duration // the module's timeout=; 0 for 20 s
	// the module line's token options, and the provider's stand-in
	tokenLine, tokens string
	checker           *fakeChecker
}

func newHost(t *testing.T, conf string) *host {
	t.Helper()
	dir := t.TempDir()
	h := &host{t: t, dir: dir, conf: filepath.Join(dir, "rules.conf"), log: &fakeLog{},
		groups:   fakeGroups{"alice": {"alice", "admins", "users"}, "bob": {"bob", "users"}, "carol": {"carol", "lp", "users"}},
		sessions: &fakeSessions{}, asker: &fakeAsker{}, mail: &fakeMail{},
		now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.Local), procs: map[int32]loginstate.Login{}}
	h.nss = &fakeNSS{groups: h.groups}
	h.write("rules.conf", conf)
	return h
}

func (h *host) write(name, text string) {
	h.t.Helper()
	path := filepath.Join(h.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// proc makes a process pid (start time start) whose parent is ppid.
func (h *host) proc(pid int32, start uint64, ppid int32) {
	l := loginstate.Login{Boot: "boot", Self: loginstate.Process{PID: pid, Start: start}, Handle: "0x5555"}
	if p, ok := h.procs[ppid]; ok {
		l.Parent = p.Self
	}
	h.procs[pid] = l
}

func (h *host) identify(pid int32, handle string) (loginstate.Login, error) {
	l, ok := h.procs[pid]
	if !ok {
		return loginstate.Login{}, fmt.Errorf("no process %d", pid)
	}
	l.Handle = handle
	return l, nil
}

// call runs one PAM call of process pid with pam as its handle.
func (h *host) call(fn protocol.Fn, pid int32, pam *fakePAM, rhost string, flags int32) int32 {
	h.t.Helper()
	return h.callAs(fn, pid, pid, pam, rhost, flags).Code
}

func (h *host) callAs(fn protocol.Fn, pid, peer int32, pam *fakePAM, rhost string, flags int32) Result {
	req := protocol.Call{Version: protocol.Version, Fn: fn, Flags: flags, PID: pid, Handle: "0x5555",
		User: protocol.Some(pam.user), Service: protocol.Some("sshd"), RHost: protocol.Some(rhost), Auth: pam.auth}
	args := Args{Conf: h.conf, RunDir: filepath.Join(h.dir, "run"), Spool: filepath.Join(h.dir, "spool"), LogDir: h.dir, Timeout: 20 * time.Second,
		insecureSkipOwnerCheck: true, TokenLine: h.tokenLine, Tokens: h.tokens}
	if h.timeout > 0 {
		args.Timeout = h.timeout
	}
	deps := Deps{PAM: pam, Log: h.log, Groups: h.groups, Users: h.nss, Sessions: h.sessions,
		Asker: h.asker, PINs: h.mail, Identify: h.identify, Alive: h.alive, Now: func() time.Time { return h.now },
		Configs: h.configs, Phases: h.phases}
	if h.checker != nil {
		deps.Tokens = func(rules.OIDCSettings) (TokenChecker, error) { return h.checker, nil }
	}
	r := Run(req, args, peer, deps)
	if fn == protocol.FnAuthenticate {
		pam.auth = protocol.AuthSucceeded
		if r.Code != protocol.PAMSuccess || pam.wrongPassword {
			pam.auth = protocol.AuthFailed
		}
	}
	return r
}

// alive: a process runs while h.procs has it.
func (h *host) alive(p loginstate.Process) bool {
	for _, l := range h.procs {
		if l.Self == p {
			return true
		}
	}
	return false
}

func (h *host) store() *loginstate.Store {
	s, err := loginstate.Open(filepath.Join(h.dir, "run"), func() time.Time { return h.now })
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func osMkdirMode(path string, mode os.FileMode) error {
	if err := os.Mkdir(path, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}
