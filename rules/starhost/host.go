// Package starhost is the Starlark sandbox of pam-accesscontrol: it
// compiles Python-shaped source (a pre-pass, prepare.go, rewrites the
// imports and `is None` that pam_python scripts write), provides the host
// modules (syslog, pwd, grp, os, time, json, sys, open, catch), and bounds
// every run in steps, time and memory, so that a hostile or broken script
// costs a login, never a hang.
//
// It serves three users, each in a package of its own: rule plugins
// (rules/starhost/plugin), the pam_python runtime (rules/starhost/pamscript)
// and, for the pam-accesscontrol command only, check-script's linter
// (rules/starhost/pycheck). Python text is read by rules/starhost/pylex.
package starhost

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Limits bound one run. A script that hits one fails, and the login with
// it.
type Limits struct {
	Steps uint64        // Starlark execution steps
	Time  time.Duration // wall clock, not counting time spent waiting for the user
	// Memory is how far the process's heap may grow while the run lasts,
	// in bytes; 0 is DefaultLimits' (memory.go says how it is kept)
	Memory uint64
}

// DefaultLimits are docs/pam_python.md's: 10 M steps, 5 s; and 256 MiB, many
// times what a script that reads a 1 MiB file needs.
var DefaultLimits = Limits{Steps: 10_000_000, Time: 5 * time.Second, Memory: 256 << 20}

// maxSource bounds a script file.
const maxSource = 1 << 20

// fileOptions are the language docs/pam_python.md fixes: while, top-level
// control flow, global reassignment and sets on; recursion off.
var fileOptions = &syntax.FileOptions{While: true, TopLevelControl: true, GlobalReassign: true, Set: true}

// Script is a compiled file.
type Script struct {
	Name string
	prog *starlark.Program
}

// Compile prepares and compiles a script. Errors carry file:line:col.
func Compile(name string, src []byte) (*Script, error) { return compile(name, src, fileOptions) }

// CompileRecursive is Compile with recursion allowed (the module line says
// `recursion`); the step limit still ends runaway code.
func CompileRecursive(name string, src []byte) (*Script, error) {
	opts := *fileOptions
	opts.Recursion = true
	return compile(name, src, &opts)
}

func compile(name string, src []byte, opts *syntax.FileOptions) (*Script, error) {
	if len(src) > maxSource {
		return nil, fmt.Errorf("%s: larger than %d KiB", name, maxSource>>10)
	}
	prepared, err := prepare(name, src)
	if err != nil {
		return nil, err
	}
	_, prog, err := starlark.SourceProgramOptions(opts, name, prepared, IsPredeclared)
	if err != nil {
		return nil, err
	}
	return &Script{Name: name, prog: prog}, nil
}

// Parse prepares and parses a script as Compile does, without resolving
// its names: check-script resolves them itself, to report every undefined
// name with a hint.
func Parse(name string, src []byte) (*syntax.File, error) {
	prepared, err := prepare(name, src)
	if err != nil {
		return nil, err
	}
	return fileOptions.Parse(name, prepared, 0)
}

// Load reads and compiles a file.
func Load(path string) (*Script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Compile(path, src)
}

// Host is what a run may reach outside Starlark.
type Host struct {
	// Log receives syslog.syslog() and print(); priority as in syslog(3).
	Log    func(priority int, msg string)
	Limits Limits
	// Now is the clock of the time module; nil means time.Now.
	Now func() time.Time
}

func (h *Host) now() time.Time {
	if h == nil || h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// Run is one execution of a script: its globals, and a thread whose step
// count and clock keep running across calls.
type Run struct {
	thread  *starlark.Thread
	Globals starlark.StringDict
	clock   *clock
	memory  *memoryWatch
}

// Start runs the script's top level.
func (s *Script) Start(h *Host) (*Run, error) { return s.StartWith(h, nil) }

// StartWith runs the top level with extra predeclared names.
func (s *Script) StartWith(h *Host, extra starlark.StringDict) (*Run, error) {
	limits := h.Limits
	if limits.Steps == 0 {
		limits = DefaultLimits
	}
	if limits.Memory == 0 {
		limits.Memory = DefaultLimits.Memory
	}
	r := &Run{thread: &starlark.Thread{Name: s.Name}}
	r.thread.SetMaxExecutionSteps(limits.Steps)
	r.thread.Print = func(_ *starlark.Thread, msg string) { h.log(logInfo, msg) }
	r.clock = startClock(r.thread, limits.Time)
	r.memory = watchMemory(r.thread, limits.Memory)
	r.thread.SetLocal(hostKey, h)
	r.thread.SetLocal(clockKey, r.clock)
	r.thread.SetLocal(memoryKey, limits.Memory)
	pre := predeclared()
	for k, v := range extra {
		pre[k] = v
	}
	g, err := s.prog.Init(r.thread, pre)
	if err == nil {
		err = r.memory.check()
	}
	if err != nil {
		r.Stop()
		return nil, explain(err)
	}
	r.Globals = g
	return r, nil
}

// Thread is the run's thread, whose step count and clock are the run's:
// call Starlark on it (or cancel it) to keep within the run's limits.
func (r *Run) Thread() *starlark.Thread { return r.thread }

// Call calls a global function; a missing one is ErrNoFunction.
func (r *Run) Call(name string, args ...starlark.Value) (starlark.Value, error) {
	fn, ok := r.Globals[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoFunction, name)
	}
	v, err := starlark.Call(r.thread, fn, args, nil)
	if err == nil {
		err = r.memory.check()
	}
	return v, explain(err)
}

// Stop ends the run's clock and its memory watch.
func (r *Run) Stop() {
	r.clock.stop()
	r.memory.stop()
}

// ErrNoFunction: the script does not define what was called.
var ErrNoFunction = errors.New("not defined")

// explain turns an evaluation error into one with the Starlark backtrace.
func explain(err error) error {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return fmt.Errorf("%s", ee.Backtrace())
	}
	return err
}

const (
	hostKey  = "pamac.host"
	clockKey = "pamac.clock"
	logInfo  = 6 // LOG_INFO
)

func (h *Host) log(priority int, msg string) {
	if h != nil && h.Log != nil {
		h.Log(priority, msg)
	}
}

// clock cancels a thread once it has run for its time, not counting
// pauses (a prompt waiting for the user).
type clock struct {
	mu     sync.Mutex
	thread *starlark.Thread
	left   time.Duration
	since  time.Time
	timer  *time.Timer
}

func startClock(t *starlark.Thread, budget time.Duration) *clock {
	c := &clock{thread: t, left: budget}
	c.resume()
	return c
}

func (c *clock) resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.since = time.Now()
	c.timer = time.AfterFunc(c.left, func() {
		c.thread.Cancel("ran longer than its time limit")
	})
}

func (c *clock) pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil && c.timer.Stop() {
		c.left -= time.Since(c.since)
	}
}

func (c *clock) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
}

// Pause stops a run's clock while fn waits for the user.
func Pause(thread *starlark.Thread, fn func()) {
	c, _ := thread.Local(clockKey).(*clock)
	if c == nil {
		fn()
		return
	}
	c.pause()
	defer c.resume()
	fn()
}
