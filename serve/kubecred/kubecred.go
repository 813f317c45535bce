package kubecred

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// minValid is how long a cached token must still be valid to be handed
// to kubectl: less, and it could expire on the way to the API server.
const minValid = 5 * time.Second

// Config is one run of the plugin.
type Config struct {
	Server  string // serve's base URL, checked by serverURL
	User    string // "": asked, DefaultUser offered
	Minutes int    // token-expires-in; 0: the server's lifetime
	// DefaultUser is offered when User is "" ($USER)
	DefaultUser string
	// ExecInfo is KUBERNETES_EXEC_INFO
	ExecInfo string
	CacheDir string
	Client   *http.Client
	// Terminal opens the terminal to ask on; nil: /dev/tty
	Terminal func() (Prompter, error)
	Now      func() time.Time
}

// ErrNotInteractive: no valid cached token, and kubectl said that the
// plugin may not ask anyone.
var ErrNotInteractive = errors.New("no valid token is cached for this server, and kubectl runs this plugin without a terminal " +
	"(KUBERNETES_EXEC_INFO interactive=false): run a kubectl command in a terminal first, or set interactiveMode: IfAvailable in the kubeconfig's exec section")

// Run prints the ExecCredential for cfg.Server on stdout: the cached
// token while it is valid, else a new one for the password asked once.
func Run(ctx context.Context, cfg Config, stdout io.Writer) error {
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	req, err := parseExecInfo(cfg.ExecInfo)
	if err != nil {
		return err
	}
	server, err := serverURL(cfg.Server)
	if err != nil {
		return err
	}
	c, err := openCache(cfg.CacheDir)
	if err != nil {
		return err
	}
	defer c.close()
	e, found, err := c.load(server)
	if err != nil {
		return err
	}
	if found && (cfg.User == "" || e.User == cfg.User) && e.Expires.After(now().Add(minValid)) {
		return write(stdout, req.version, e.Token, e.Expires)
	}
	if !req.interactive {
		return ErrNotInteractive
	}
	open := cfg.Terminal
	if open == nil {
		open = openTerminal
	}
	tty, err := open()
	if err != nil {
		return err
	}
	defer tty.Close()
	user := cfg.User
	if user == "" {
		offer := ""
		if cfg.DefaultUser != "" {
			offer = " [" + cfg.DefaultUser + "]"
		}
		answer, err := tty.Ask(fmt.Sprintf("User name for %s%s: ", server, offer), true)
		if err != nil {
			return err
		}
		if user = string(answer); user == "" {
			user = cfg.DefaultUser
		}
		if user == "" {
			return errors.New("no user name given")
		}
	}
	password, err := tty.Ask(fmt.Sprintf("Password for %s at %s: ", user, server), false)
	if err != nil {
		return err
	}
	token, exp, err := fetch(ctx, cfg.Client, server, user, password, cfg.Minutes, now())
	clear(password)
	if err != nil {
		return err
	}
	if err := c.store(entry{Server: server, User: user, Token: token, Expires: exp}); err != nil {
		return err
	}
	return write(stdout, req.version, token, exp)
}

func write(stdout io.Writer, version, token string, exp time.Time) error {
	out, err := credential(version, token, exp)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
