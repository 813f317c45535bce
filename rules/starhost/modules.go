package starhost

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// predeclared is what every script sees: the host modules under their
// names, __modules__ for the import pre-pass, and catch. sys is each run's
// own, as its argv and path are lists a script may change.
func predeclared() starlark.StringDict {
	mods := starlark.NewDict(len(moduleNames))
	d := starlark.StringDict{"catch": starlark.NewBuiltin("catch", catch), "open": starlark.NewBuiltin("open", openFile)}
	for name, b := range sizedBuiltins { // memory.go
		d[name] = b
	}
	for name, m := range hostModules {
		mods.SetKey(starlark.String(name), m)
		if name != "os.path" {
			d[name] = m
		}
	}
	sys := runModule{newSysModule()}
	mods.SetKey(starlark.String("sys"), sys)
	d["sys"] = sys
	mods.Freeze() // all but sys: runModule
	d["__modules__"] = mods
	return d
}

// runModule is a module of one run only, whose lists stay the script's to
// change when __modules__ is frozen.
type runModule struct{ *starlarkstruct.Module }

func (runModule) Freeze() {}

// IsPredeclared reports whether every script has the name without
// defining it (starlark.Universe's aside).
func IsPredeclared(name string) bool {
	_, isModule := hostModules[name]
	_, isSized := sizedBuiltins[name]
	return isModule || isSized || name == "sys" || name == "__modules__" || name == "catch" || name == "open"
}

// hostModules are shared by all runs: nothing in them can change.
var hostModules = map[string]*starlarkstruct.Module{
	"syslog":  syslogModule,
	"pwd":     pwdModule,
	"grp":     grpModule,
	"os":      osModule,
	"os.path": osPathModule,
	"time":    timeModule,
	"json":    jsonModule,
}

// ModuleMembers lists the members of a host module that all runs share
// (sys, each run's own, is not one), for check-script; ok is false for any
// other name.
func ModuleMembers(name string) (members []string, ok bool) {
	m, ok := hostModules[name]
	if !ok {
		return nil, false
	}
	return m.AttrNames(), true
}

// syslog: CPython's syslog module. Lines go to the module's own log
// (AUTHPRIV, its ident), whatever facility a script names: openlog and
// closelog are accepted and change nothing, so that no script can change
// the application's ident as libc openlog would under pam_python.
var syslogModule = &starlarkstruct.Module{Name: "syslog", Members: func() starlark.StringDict {
	m := starlark.StringDict{
		"syslog":     starlark.NewBuiltin("syslog.syslog", syslogSyslog),
		"openlog":    starlark.NewBuiltin("syslog.openlog", syslogOpenlog),
		"closelog":   noop("syslog.closelog"),
		"setlogmask": starlark.NewBuiltin("syslog.setlogmask", syslogSetlogmask),
		"LOG_MASK": starlark.NewBuiltin("syslog.LOG_MASK", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var pri int
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &pri); err != nil {
				return nil, err
			}
			return starlark.MakeInt(1 << (pri & 7)), nil
		}),
		"LOG_UPTO": starlark.NewBuiltin("syslog.LOG_UPTO", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var pri int
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &pri); err != nil {
				return nil, err
			}
			return starlark.MakeInt(1<<((pri&7)+1) - 1), nil
		}),
	}
	for name, v := range syslogConstants {
		m[name] = starlark.MakeInt(v)
	}
	return m
}()}

// syslogConstants are CPython's on Linux (3.11, and LOG_FTP of 3.13).
var syslogConstants = map[string]int{
	// priorities
	"LOG_EMERG": 0, "LOG_ALERT": 1, "LOG_CRIT": 2, "LOG_ERR": 3,
	"LOG_WARNING": 4, "LOG_NOTICE": 5, "LOG_INFO": 6, "LOG_DEBUG": 7,
	// facilities
	"LOG_KERN": 0 << 3, "LOG_USER": 1 << 3, "LOG_MAIL": 2 << 3, "LOG_DAEMON": 3 << 3,
	"LOG_AUTH": 4 << 3, "LOG_SYSLOG": 5 << 3, "LOG_LPR": 6 << 3, "LOG_NEWS": 7 << 3,
	"LOG_UUCP": 8 << 3, "LOG_CRON": 9 << 3, "LOG_AUTHPRIV": 10 << 3, "LOG_FTP": 11 << 3,
	"LOG_LOCAL0": 16 << 3, "LOG_LOCAL1": 17 << 3, "LOG_LOCAL2": 18 << 3, "LOG_LOCAL3": 19 << 3,
	"LOG_LOCAL4": 20 << 3, "LOG_LOCAL5": 21 << 3, "LOG_LOCAL6": 22 << 3, "LOG_LOCAL7": 23 << 3,
	// openlog options
	"LOG_PID": 0x01, "LOG_CONS": 0x02, "LOG_ODELAY": 0x04, "LOG_NDELAY": 0x08,
	"LOG_NOWAIT": 0x10, "LOG_PERROR": 0x20,
}

// logMaskKey keeps a run's setlogmask; unset is every priority.
const logMaskKey = "pamac.logmask"

func logMask(t *starlark.Thread) int {
	if m, ok := t.Local(logMaskKey).(int); ok {
		return m
	}
	return 0xff
}

// syslog.syslog([priority,] message): the priority's facility bits are
// ignored, its level is the line's.
func syslogSyslog(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	priority, msg := logInfo, ""
	switch len(args) {
	case 1:
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &msg); err != nil {
			return nil, err
		}
	default:
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 2, &priority, &msg); err != nil {
			return nil, err
		}
	}
	if logMask(t)&(1<<(priority&7)) == 0 {
		return starlark.None, nil
	}
	h, _ := t.Local(hostKey).(*Host)
	h.log(priority&7, msg)
	return starlark.None, nil
}

// syslog.openlog([ident[, logoption[, facility]]]) checks its arguments
// as CPython does and changes nothing.
func syslogOpenlog(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	ident := starlark.Value(starlark.None)
	var option, facility int
	if err := starlark.UnpackArgs(b.Name(), args, kw, "ident?", &ident, "logoption?", &option, "facility?", &facility); err != nil {
		return nil, err
	}
	if _, ok := ident.(starlark.String); !ok && ident != starlark.None {
		return nil, fmt.Errorf("TypeError: syslog.openlog: ident must be str or None, not %s", ident.Type())
	}
	return starlark.None, nil
}

// syslog.setlogmask(mask) sets which priorities syslog() writes (0 leaves
// it) and returns the mask before.
func syslogSetlogmask(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var mask int
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &mask); err != nil {
		return nil, err
	}
	old := logMask(t)
	if mask != 0 {
		t.SetLocal(logMaskKey, mask)
	}
	return starlark.MakeInt(old), nil
}

func noop(name string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, nil
	})
}

// pwd and grp entries: CPython's field names and order.
var (
	passwdFields = []string{"pw_name", "pw_passwd", "pw_uid", "pw_gid", "pw_gecos", "pw_dir", "pw_shell"}
	groupFields  = []string{"gr_name", "gr_passwd", "gr_gid", "gr_mem"}
)

// pwd: getpwnam and getpwuid through NSS (getpwnam_r, getpwuid_r: the
// whole entry, which os/user does not give). No getpwall, nor getgrall
// below: listing every user of an LDAP or AD directory can take minutes in
// a C call no limit stops, and SSSD by default lists only some.
var pwdModule = &starlarkstruct.Module{Name: "pwd", Members: starlark.StringDict{
	"getpwnam": starlark.NewBuiltin("pwd.getpwnam", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var name string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &name); err != nil {
			return nil, err
		}
		p, err := nss.LookupUser(name, 0, true)
		return passwdEntry(p, err, "getpwnam(): name not found: "+pyRepr(name))
	}),
	"getpwuid": starlark.NewBuiltin("pwd.getpwuid", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var uid int64
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &uid); err != nil {
			return nil, err
		}
		notFound := "getpwuid(): uid not found: " + strconv.FormatInt(uid, 10)
		if uid < 0 || uid > math.MaxUint32 {
			return nil, errors.New("KeyError: " + notFound)
		}
		p, err := nss.LookupUser("", uint32(uid), false)
		return passwdEntry(p, err, notFound)
	}),
}}

func passwdEntry(p nss.Passwd, err error, notFound string) (starlark.Value, error) {
	if errors.Is(err, nss.ErrNoUser) {
		return nil, errors.New("KeyError: " + notFound)
	}
	if err != nil {
		return nil, fmt.Errorf("OSError: %v", err)
	}
	return newStructSeq("pwd", "struct_passwd", passwdFields,
		starlark.String(p.Name), starlark.String(p.Passwd),
		starlark.MakeUint64(uint64(p.UID)), starlark.MakeUint64(uint64(p.GID)),
		starlark.String(p.Gecos), starlark.String(p.Dir), starlark.String(p.Shell)), nil
}

// grp: getgrnam and getgrgid, members included, through NSS.
var grpModule = &starlarkstruct.Module{Name: "grp", Members: starlark.StringDict{
	"getgrnam": starlark.NewBuiltin("grp.getgrnam", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var name string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &name); err != nil {
			return nil, err
		}
		g, err := nss.LookupGroup(name, 0, true)
		return groupEntry(g, err, "getgrnam(): name not found: "+pyRepr(name))
	}),
	"getgrgid": starlark.NewBuiltin("grp.getgrgid", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var gid int64
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &gid); err != nil {
			return nil, err
		}
		notFound := "getgrgid(): gid not found: " + strconv.FormatInt(gid, 10)
		if gid < 0 || gid > math.MaxUint32 {
			return nil, errors.New("KeyError: " + notFound)
		}
		g, err := nss.LookupGroup("", uint32(gid), false)
		return groupEntry(g, err, notFound)
	}),
}}

func groupEntry(g nss.Group, err error, notFound string) (starlark.Value, error) {
	if errors.Is(err, nss.ErrNoGroup) {
		return nil, errors.New("KeyError: " + notFound)
	}
	if err != nil {
		return nil, fmt.Errorf("OSError: %v", err)
	}
	mem := make([]starlark.Value, len(g.Members))
	for i, m := range g.Members {
		mem[i] = starlark.String(m)
	}
	return newStructSeq("grp", "struct_group", groupFields,
		starlark.String(g.Name), starlark.String(g.Passwd),
		starlark.MakeUint64(uint64(g.GID)), starlark.NewList(mem)), nil
}

// pyRepr quotes a name as Python's repr does in the common case.
func pyRepr(s string) string {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '\\' || r == '\'' {
			return strconv.Quote(s)
		}
	}
	return "'" + s + "'"
}

// os and os.path: reading only.
var osPathModule = &starlarkstruct.Module{Name: "os.path", Members: starlark.StringDict{
	"exists":   statTest("os.path.exists", func(fi os.FileInfo) bool { return true }),
	"isfile":   statTest("os.path.isfile", func(fi os.FileInfo) bool { return fi.Mode().IsRegular() }),
	"isdir":    statTest("os.path.isdir", func(fi os.FileInfo) bool { return fi.IsDir() }),
	"basename": stringFunc("os.path.basename", filepath.Base),
	"dirname":  stringFunc("os.path.dirname", filepath.Dir),
}}

var osModule = &starlarkstruct.Module{Name: "os", Members: starlark.StringDict{
	"path":    osPathModule,
	"sep":     starlark.String("/"),
	"environ": osEnviron,
	"getenv": starlark.NewBuiltin("os.getenv", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var key string
		def := starlark.Value(starlark.None)
		if err := starlark.UnpackArgs(b.Name(), args, kw, "key", &key, "default?", &def); err != nil {
			return nil, err
		}
		return def, nil // os.environ is empty
	}),
}}

// osEnviron is os.environ: empty and read-only. Under pam_python a script
// sees the environment of the application it runs in (sshd's, or under su
// and sudo the invoking user's: the attacker's). Here it runs in a helper
// that the module starts with a fixed environment (PATH and LANG), or in
// the daemon with systemd's: neither is the application's, and showing
// them would pass for it. The PAM environment (pam_getenv, what
// pam_env and other modules set for the session) is pamh.env.
var osEnviron = func() *starlark.Dict {
	d := starlark.NewDict(0)
	d.Freeze()
	return d
}()

func statTest(name string, test func(os.FileInfo) bool) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var path string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &path); err != nil {
			return nil, err
		}
		fi, err := os.Stat(path)
		return starlark.Bool(err == nil && test(fi)), nil
	})
}

func stringFunc(name string, f func(string) string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var s string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &s); err != nil {
			return nil, err
		}
		return starlark.String(f(s)), nil
	})
}

// time: time() and localtime(), as Python has them (tm_wday 0 is Monday).
var timeModule = &starlarkstruct.Module{Name: "time", Members: starlark.StringDict{
	"time": starlark.NewBuiltin("time.time", func(t *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		h, _ := t.Local(hostKey).(*Host)
		return starlark.Float(float64(h.now().UnixNano()) / 1e9), nil
	}),
	"localtime": starlark.NewBuiltin("time.localtime", func(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		secs := starlark.Value(starlark.None)
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 0, &secs); err != nil {
			return nil, err
		}
		h, _ := t.Local(hostKey).(*Host)
		now := h.now()
		if f, ok := starlark.AsFloat(secs); ok && secs != starlark.None {
			now = time.Unix(0, int64(f*1e9))
		}
		return structTime(now.Local()), nil
	}),
}}

var timeFields = []string{"tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst"}

func structTime(t time.Time) starlark.Value {
	dst := 0
	if t.IsDST() {
		dst = 1
	}
	return newStructSeq("time", "struct_time", timeFields,
		starlark.MakeInt(t.Year()), starlark.MakeInt(int(t.Month())), starlark.MakeInt(t.Day()),
		starlark.MakeInt(t.Hour()), starlark.MakeInt(t.Minute()), starlark.MakeInt(t.Second()),
		starlark.MakeInt((int(t.Weekday())+6)%7), starlark.MakeInt(t.YearDay()), starlark.MakeInt(dst))
}

// newSysModule is a run's sys. pam_python never sets sys.argv (the module
// arguments are each entry point's argv); embedded CPython 3.8 and later
// make it a list of one empty string, and so does this. sys.path is a list
// to change at will (sys.path.insert(0, …) is common), which imports here
// do not read. sys.exit ends the call in PAM_SERVICE_ERR, as SystemExit
// does under pam_python.
func newSysModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "sys", Members: starlark.StringDict{
		"version":  starlark.String("starlark (pam-accesscontrol)"),
		"platform": starlark.String("linux"),
		"argv":     starlark.NewList([]starlark.Value{starlark.String("")}),
		"path":     starlark.NewList(nil),
		"exit": starlark.NewBuiltin("sys.exit", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			code := starlark.Value(starlark.None)
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 0, &code); err != nil {
				return nil, err
			}
			if s, ok := code.(starlark.String); ok {
				return nil, fmt.Errorf("SystemExit: %s", string(s))
			}
			return nil, fmt.Errorf("SystemExit: %s", code)
		}),
	}}
}

// PAMFailure is an error of a failed libpam call (pamscript's PAMError,
// pamh.exception). The sandbox knows no PAM handle; catch reports such an
// error's code as .pam_result, as pam_python's exception does.
type PAMFailure interface {
	error
	PAMResult() int
}

// catch(fn, *args) calls fn and returns a struct with .value and .error
// (None when fn succeeded): Starlark has no try/except.
func catch(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("catch: want a function to call")
	}
	v, err := starlark.Call(t, args[0], args[1:], kw)
	if err != nil {
		if isLimit(err) {
			return nil, err // limits cannot be caught
		}
		// a failed libpam call carries its code, like pamh.exception's
		// pam_result; any other error is PAM_SERVICE_ERR, never a success
		kind, code := "error", pamconst.ServiceErr
		var pe PAMFailure
		if errors.As(err, &pe) {
			if c := pe.PAMResult(); c != pamconst.Success && c != pamconst.Ignore {
				kind, code = "pam", c
			}
		}
		return starlarkstruct.FromStringDict(starlark.String("caught"), starlark.StringDict{
			"value": starlark.None,
			"error": starlarkstruct.FromStringDict(starlark.String("error"), starlark.StringDict{
				"message": starlark.String(err.Error()), "kind": starlark.String(kind),
				"pam_result": starlark.MakeInt(code),
			}),
		}), nil
	}
	return starlarkstruct.FromStringDict(starlark.String("caught"), starlark.StringDict{"value": v, "error": starlark.None}), nil
}

func isLimit(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "too many steps") || strings.Contains(msg, "time limit") ||
		strings.Contains(msg, "cancelled") || strings.Contains(msg, "memory limit")
}

// maxOpen bounds what open() reads.
const maxOpen = 1 << 20

// open(path, mode="r") reads a file, whole, for read() and readlines():
// scripts may read configuration, never write. Only a regular file (a
// symbolic link to one is followed, as an OPA pull does), at most maxOpen
// bytes: a FIFO planted where an old script reads under /tmp would block
// the call, and in the daemon strand a thread; /dev/zero would never end
// (trust.ReadFile with AnyOwner: a script may read what root can).
func openFile(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var path string
	mode := "r"
	if err := starlark.UnpackArgs(b.Name(), args, kw, "file", &path, "mode?", &mode); err != nil {
		return nil, err
	}
	if mode != "r" && mode != "rt" {
		return nil, fmt.Errorf("open: mode %q: files are read-only here", mode)
	}
	data, err := trust.ReadFile(path, maxOpen, trust.AnyOwner)
	if err != nil {
		return nil, fmt.Errorf("IOError: open: %v", err)
	}
	text := string(data)
	read := starlark.NewBuiltin("read", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.String(text), nil
	})
	readlines := starlark.NewBuiltin("readlines", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		var lines []starlark.Value
		for _, l := range strings.SplitAfter(text, "\n") {
			if l != "" {
				lines = append(lines, starlark.String(l))
			}
		}
		return starlark.NewList(lines), nil
	})
	return starlarkstruct.FromStringDict(starlark.String("file"), starlark.StringDict{
		"read": read, "readlines": readlines, "close": noop("close"), "name": starlark.String(path),
	}), nil
}
