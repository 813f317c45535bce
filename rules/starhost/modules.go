package starhost

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
)

// predeclared is what every script sees: the host modules under their
// names, __modules__ for the import pre-pass, and catch.
func predeclared() starlark.StringDict {
	mods := starlark.NewDict(len(moduleNames))
	d := starlark.StringDict{"catch": starlark.NewBuiltin("catch", catch), "open": starlark.NewBuiltin("open", openFile)}
	for name, m := range hostModules {
		mods.SetKey(starlark.String(name), m)
		if name != "os.path" {
			d[name] = m
		}
	}
	mods.Freeze()
	d["__modules__"] = mods
	return d
}

func predeclaredName(name string) bool {
	_, isModule := hostModules[name]
	return isModule || name == "__modules__" || name == "catch" || name == "open"
}

var hostModules = map[string]*starlarkstruct.Module{
	"syslog":  syslogModule,
	"pwd":     pwdModule,
	"grp":     grpModule,
	"os":      osModule,
	"os.path": osPathModule,
	"time":    timeModule,
	"json":    json.Module,
	"sys":     sysModule,
}

// syslog: syslog.syslog([priority,] message) and the LOG_ constants.
var syslogModule = &starlarkstruct.Module{Name: "syslog", Members: starlark.StringDict{
	"syslog": starlark.NewBuiltin("syslog.syslog", func(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
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
		h, _ := t.Local(hostKey).(*Host)
		h.log(priority&7, msg)
		return starlark.None, nil
	}),
	"openlog":   noop("syslog.openlog"),
	"closelog":  noop("syslog.closelog"),
	"LOG_EMERG": starlark.MakeInt(0), "LOG_ALERT": starlark.MakeInt(1), "LOG_CRIT": starlark.MakeInt(2),
	"LOG_ERR": starlark.MakeInt(3), "LOG_WARNING": starlark.MakeInt(4), "LOG_NOTICE": starlark.MakeInt(5),
	"LOG_INFO": starlark.MakeInt(6), "LOG_DEBUG": starlark.MakeInt(7),
	"LOG_AUTH": starlark.MakeInt(4 << 3), "LOG_AUTHPRIV": starlark.MakeInt(10 << 3), "LOG_USER": starlark.MakeInt(1 << 3),
}}

func noop(name string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, nil
	})
}

// pwd: getpwnam and getpwuid through NSS.
var pwdModule = &starlarkstruct.Module{Name: "pwd", Members: starlark.StringDict{
	"getpwnam": starlark.NewBuiltin("pwd.getpwnam", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var name string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &name); err != nil {
			return nil, err
		}
		u, err := user.Lookup(name)
		return passwdEntry(u, err, "name "+strconv.Quote(name))
	}),
	"getpwuid": starlark.NewBuiltin("pwd.getpwuid", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var uid int
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &uid); err != nil {
			return nil, err
		}
		u, err := user.LookupId(strconv.Itoa(uid))
		return passwdEntry(u, err, "uid "+strconv.Itoa(uid))
	}),
}}

func passwdEntry(u *user.User, err error, what string) (starlark.Value, error) {
	if err != nil {
		return nil, fmt.Errorf("KeyError: getpwnam(): %s not found", what)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return starlarkstruct.FromStringDict(starlark.String("struct_passwd"), starlark.StringDict{
		"pw_name": starlark.String(u.Username), "pw_passwd": starlark.String("x"),
		"pw_uid": starlark.MakeInt(uid), "pw_gid": starlark.MakeInt(gid),
		"pw_gecos": starlark.String(u.Name), "pw_dir": starlark.String(u.HomeDir), "pw_shell": starlark.String(""),
	}), nil
}

// grp: getgrnam and getgrgid, members included, through NSS.
var grpModule = &starlarkstruct.Module{Name: "grp", Members: starlark.StringDict{
	"getgrnam": starlark.NewBuiltin("grp.getgrnam", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var name string
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &name); err != nil {
			return nil, err
		}
		return groupEntry(nss.LookupGroup(name, 0, true))
	}),
	"getgrgid": starlark.NewBuiltin("grp.getgrgid", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var gid int
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &gid); err != nil {
			return nil, err
		}
		return groupEntry(nss.LookupGroup("", uint32(gid), false))
	}),
}}

func groupEntry(g nss.Group, err error) (starlark.Value, error) {
	if errors.Is(err, nss.ErrNoGroup) {
		return nil, fmt.Errorf("KeyError: group not found")
	}
	if err != nil {
		return nil, err
	}
	mem := make([]starlark.Value, len(g.Members))
	for i, m := range g.Members {
		mem[i] = starlark.String(m)
	}
	return starlarkstruct.FromStringDict(starlark.String("struct_group"), starlark.StringDict{
		"gr_name": starlark.String(g.Name), "gr_passwd": starlark.String("x"),
		"gr_gid": starlark.MakeInt(int(g.GID)), "gr_mem": starlark.NewList(mem),
	}), nil
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
	"path": osPathModule,
	"sep":  starlark.String("/"),
}}

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

func structTime(t time.Time) starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String("struct_time"), starlark.StringDict{
		"tm_year": starlark.MakeInt(t.Year()), "tm_mon": starlark.MakeInt(int(t.Month())), "tm_mday": starlark.MakeInt(t.Day()),
		"tm_hour": starlark.MakeInt(t.Hour()), "tm_min": starlark.MakeInt(t.Minute()), "tm_sec": starlark.MakeInt(t.Second()),
		"tm_wday": starlark.MakeInt((int(t.Weekday()) + 6) % 7), "tm_yday": starlark.MakeInt(t.YearDay()),
	})
}

var sysModule = &starlarkstruct.Module{Name: "sys", Members: starlark.StringDict{
	"version":  starlark.String("starlark (pam-accesscontrol)"),
	"platform": starlark.String("linux"),
}}

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
		var pe *PAMError
		if errors.As(err, &pe) && pe.Code != pamconst.Success && pe.Code != pamconst.Ignore {
			kind, code = "pam", pe.Code
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
		strings.Contains(msg, "cancelled")
}

// maxOpen bounds what open() reads.
const maxOpen = 1 << 20

// open(path, mode="r") reads a file, whole, for read() and readlines():
// scripts may read configuration, never write.
func openFile(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var path string
	mode := "r"
	if err := starlark.UnpackArgs(b.Name(), args, kw, "file", &path, "mode?", &mode); err != nil {
		return nil, err
	}
	if mode != "r" && mode != "rt" {
		return nil, fmt.Errorf("open: mode %q: files are read-only here", mode)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("IOError: %v", err)
	}
	defer f.Close()
	data := make([]byte, maxOpen+1)
	n, _ := io.ReadFull(f, data)
	if n > maxOpen {
		return nil, fmt.Errorf("open: %s is larger than %d KiB", path, maxOpen>>10)
	}
	text := string(data[:n])
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
