package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
)

// DefaultRunDir keeps per-login state between PAM calls.
const DefaultRunDir = loginstate.DefaultDir

// DefaultSpoolDir keeps the audit events and mails still to be sent: on
// disk, so that what a receiver that was down missed survives a reboot.
const DefaultSpoolDir = "/var/spool/pam-accesscontrol"

// moduleArgs are the arguments of the module line in the PAM config. The
// options must be the same as is_option() in pam_accesscontrol.c, and so
// must what a script is (is_script()): the first argument that is not an
// option starts a pam_python script, a path or a name ending in .py or
// .star, and everything after it is the script's argv whatever it looks
// like; any other argument is an unknown option, which denies.
type moduleArgs struct {
	Conf       string // conf=: the rules file; "" for the default
	Debug      bool
	Recursion  bool          // recursion: a script may call itself (off: a loop, not a stack, ends runaway code)
	RunDir     string        // rundir=: state between calls
	SpoolDir   string        // spooldir=: what waits to be sent
	LogDir     string        // logdir=: the monthly log
	Timeout    time.Duration // timeout=: the module's deadline for one call
	Script     string        // a pam_python script, "" for rules
	ScriptArgs []string
	// Interpreter (interpreter=) runs the script in that real Python
	// (pammod/pyengine) instead of Starlark.
	Interpreter string
	// TokenLine (tokenline=only|or-password) and Tokens
	// (tokens=or-password): pam-configure --tokens (pammod/call/token.go)
	TokenLine string
	Tokens    string
}

func parseArgs(args []string) (moduleArgs, error) {
	a := moduleArgs{RunDir: DefaultRunDir, SpoolDir: DefaultSpoolDir, LogDir: logging.DefaultDir, Timeout: 120 * time.Second}
	for i, arg := range args {
		key, value, hasValue := strings.Cut(arg, "=")
		switch {
		case arg == "debug":
			a.Debug = true
		case arg == "recursion":
			a.Recursion = true
		case hasValue && key == "conf":
			a.Conf = value
		case hasValue && key == "rundir":
			a.RunDir = value
		case hasValue && key == "logdir":
			a.LogDir = value
		case hasValue && key == "spooldir":
			a.SpoolDir = value
		case hasValue && key == "interpreter":
			if !strings.HasPrefix(value, "/") {
				return a, fmt.Errorf("module option %s is not an absolute path", arg)
			}
			a.Interpreter = value
		case hasValue && key == "timeout":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return a, fmt.Errorf("module option %s is not a number of seconds", arg)
			}
			a.Timeout = time.Duration(n) * time.Second
		case hasValue && key == "tokenline":
			if value != call.TokensOnly && value != call.TokensOrPassword {
				return a, fmt.Errorf("module option %s: want tokenline=only or tokenline=or-password", arg)
			}
			a.TokenLine = value
		case hasValue && key == "tokens":
			if value != call.TokensOrPassword {
				return a, fmt.Errorf("module option %s: want tokens=or-password", arg)
			}
			a.Tokens = value
		case hasValue && (key == "helper" || key == "socket"):
			// the shim's own options
		case isScript(arg):
			a.Script, a.ScriptArgs = arg, args[i:]
			return a, nil
		default:
			return a, fmt.Errorf("unknown option %s (not a module option, nor a script: a path or a name ending in .py or .star)", arg)
		}
		if hasValue && value == "" {
			return a, fmt.Errorf("module option %s has no value", arg)
		}
	}
	if a.Interpreter != "" {
		return a, fmt.Errorf("module option interpreter=%s names no script to run", a.Interpreter)
	}
	return a, nil
}

// isScript tells a pam_python script from an unknown option.
func isScript(arg string) bool {
	return strings.Contains(arg, "/") || strings.HasSuffix(arg, ".py") || strings.HasSuffix(arg, ".star")
}
