package kubecred

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// exitUsage is the CLI's status for a command line that cannot be run
// (installer/internal/cli.ExitUsage, which this package may not import).
const exitUsage = 64

// requestTimeout bounds GET /token: serve's PAM transaction (its
// --pam-timeout, 30 s by default) and the connection.
const requestTimeout = 90 * time.Second

// options is the command line; each flag may also come from the
// environment, PAMAC_KUBE_CREDENTIAL_ and the flag's name in capitals
// with _ for - (PAMAC_KUBE_CREDENTIAL_SERVER), as the kubeconfig's exec
// section can set them (env:), the command line winning.
type options struct {
	server, caFile, user string
	minutes              int
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("kube-credential", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "", "the URL of pam-accesscontrol serve (https://HOST:8443), required")
	fs.StringVar(&o.caFile, "ca-file", "", "the CA certificate (PEM) serve's certificate is checked against; default: the system's")
	fs.StringVar(&o.user, "user", "", "the user name; default: asked, $USER offered")
	fs.IntVar(&o.minutes, "token-expires-in", 0, "the token's lifetime in minutes (at most serve's --token-ttl); 0: serve's")
	var bad []string
	fs.VisitAll(func(f *flag.Flag) {
		name := "PAMAC_KUBE_CREDENTIAL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", name, err))
			}
		}
	})
	if len(bad) > 0 {
		return o, errors.New(strings.Join(bad, "; "))
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.server == "" {
		return o, errors.New("--server URL is required (serve's address, https://HOST:8443)")
	}
	if _, err := serverURL(o.server); err != nil {
		return o, err
	}
	if o.minutes < 0 {
		return o, errors.New("--token-expires-in must be 0 (serve's lifetime) or a number of minutes")
	}
	return o, nil
}

// Main is `pam-accesscontrol kube-credential`: kubectl runs it from the
// exec section of a kubeconfig and reads its stdout.
func Main(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, os.Getenv, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "pam-accesscontrol kube-credential:", err)
		}
		return exitUsage
	}
	dir, err := cacheDir(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "pam-accesscontrol kube-credential:", err)
		return 1
	}
	c, err := client(o.caFile, requestTimeout)
	if err != nil {
		fmt.Fprintln(stderr, "pam-accesscontrol kube-credential:", err)
		return exitUsage
	}
	// SIGINT keeps its default (the end) but while the password is asked,
	// when the terminal's echo comes back first (terminal.Ask)
	err = Run(context.Background(), Config{Server: o.server, User: o.user, Minutes: o.minutes, DefaultUser: os.Getenv("USER"),
		ExecInfo: os.Getenv("KUBERNETES_EXEC_INFO"), CacheDir: dir, Client: c}, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "pam-accesscontrol kube-credential:", err)
		return 1
	}
	return 0
}
