package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// options is the serve verb's command line; each flag may also come from
// the environment, PAMAC_SERVE_ and the flag's name in capitals with _ for
// - (PAMAC_SERVE_LISTEN), the command line winning.
type options struct {
	listen, tlsCert, tlsKey, clientCA, service, kubeService, signingKey, issuer, audience, confDir, proxies string
	ttl, pamTimeout, nssCacheTTL                                                                            time.Duration
	max                                                                                                     int
	observe                                                                                                 observeOptions // observe_cmd.go
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8443", "the address to listen on")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate (PEM; a renewed one is served within 5 s); without it and --tls-key, plain HTTP on loopback addresses only")
	fs.StringVar(&o.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fs.StringVar(&o.clientCA, "client-ca", "", "root's CA bundle (PEM) that signs kube-apiserver's client certificate: POST /authenticate then answers only a client with one")
	fs.StringVar(&o.service, "web-service", "web", "the PAM service each login runs through")
	fs.StringVar(&o.kubeService, "kube-service", "kubernetes", "the PAM service GET /token (pam_hook's API) runs through; without it in the PAM directory, no /token")
	fs.StringVar(&o.signingKey, "signing-key", "", "root-only key file: an HMAC secret (HS256), an Ed25519 or ECDSA P-256 PEM (EdDSA, ES256); none: no tokens")
	fs.StringVar(&o.issuer, "issuer", App, "the tokens' iss")
	fs.StringVar(&o.audience, "audience", "", "the tokens' aud")
	fs.DurationVar(&o.ttl, "token-ttl", 15*time.Minute, "how long a token is valid")
	fs.StringVar(&o.confDir, "pam-confdir", "", "PAM's configuration directory (pam_start_confdir; for tests)")
	fs.StringVar(&o.proxies, "trusted-proxy", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	fs.DurationVar(&o.pamTimeout, "pam-timeout", 30*time.Second, "the longest a PAM transaction may take")
	fs.IntVar(&o.max, "max-transactions", 16, "PAM transactions at once")
	o.observe.flags(fs)
	fs.DurationVar(&o.nssCacheTTL, "nss-cache-ttl", 10*time.Second, "how long POST /authenticate keeps a user's uid and groups from NSS; 0 asks NSS for every TokenReview")
	var fromEnv []string
	fs.VisitAll(func(f *flag.Flag) {
		name := "PAMAC_SERVE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := fs.Set(f.Name, v); err != nil {
				fromEnv = append(fromEnv, fmt.Sprintf("%s: %v", name, err))
			}
		}
	})
	if len(fromEnv) > 0 {
		return o, errors.New(strings.Join(fromEnv, "; "))
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.nssCacheTTL < 0 {
		return o, errors.New("--nss-cache-ttl must not be negative")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("--tls-cert and --tls-key go together")
	}
	if o.clientCA != "" && o.tlsCert == "" {
		return o, errors.New("--client-ca needs --tls-cert and --tls-key: client certificates are a part of TLS")
	}
	if o.tlsCert == "" {
		if err := loopbackOnly(o.listen); err != nil {
			return o, err
		}
	}
	return o, o.observe.check()
}

// loopbackOnly refuses plain HTTP anywhere but a loopback address:
// passwords cross the connection.
func loopbackOnly(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %v", listen, err)
	}
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %q without --tls-cert and --tls-key: plain HTTP carries passwords, so it listens on loopback addresses only (127.0.0.1, ::1)", listen)
}

func prefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy: %v", err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// exitUsage is the CLI's status for a command line that cannot be run
// (installer/internal/cli.ExitUsage, which this package may not import).
const exitUsage = 64

// Main is `pam-accesscontrol serve`: it runs until SIGTERM or SIGINT.
func Main(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "pam-accesscontrol serve:", err)
		}
		return exitUsage
	}
	logger := log.New(stderr, "", log.LstdFlags)
	cfg, err := o.config(logger)
	if err != nil {
		fmt.Fprintln(stderr, "pam-accesscontrol serve:", err)
		return 1
	}
	var tlsConf *tls.Config
	if o.tlsCert != "" {
		if tlsConf, err = tlsConfig(o.tlsCert, o.tlsKey, o.clientCA, logger.Printf); err != nil {
			fmt.Fprintln(stderr, "pam-accesscontrol serve:", err)
			return 1
		}
	}
	stopObserve, err := o.observe.start(cfg, logger)
	if err != nil {
		fmt.Fprintln(stderr, "pam-accesscontrol serve:", err)
		return 1
	}
	defer stopObserve()
	srv := &http.Server{Addr: o.listen, Handler: New(cfg), TLSConfig: tlsConf, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: o.pamTimeout + 30*time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: logger}
	ln, err := listen(o.listen, o.tlsCert != "")
	if err != nil {
		fmt.Fprintln(stderr, "pam-accesscontrol serve:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate is tlsConf's
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	logger.Printf("serve: listening on %s (PAM service %q, tokens %v)", ln.Addr(), o.service, cfg.Tokens != nil)
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "pam-accesscontrol serve:", err)
		return 1
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), o.pamTimeout)
	defer cancel()
	srv.Shutdown(shut)
	return 0
}

func (o options) config(logger *log.Logger) (Config, error) {
	dir := o.confDir
	if dir == "" {
		dir = "/etc/pam.d"
	}
	if !pamService(dir, o.service) {
		// libpam would fall back to "other" without a word
		return Config{}, fmt.Errorf("--web-service %q: no such PAM service in %s", o.service, dir)
	}
	pc, err := pamclient.New(pamclient.Config{Service: o.service, ConfDir: o.confDir, Timeout: o.pamTimeout, Max: o.max})
	if err != nil {
		return Config{}, err
	}
	proxies, err := prefixes(o.proxies)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{PAM: pc, Groups: nss.Groups{}, Users: nssUsers{}, TrustedProxies: proxies, Version: version(), Logf: logger.Printf,
		NSSCacheTTL: o.nssCacheTTL, ReviewNeedsClientCert: o.clientCA != ""}
	// /token is optional: a host without the Kubernetes service serves
	// beesly's API alone, and says so once (never "other" by accident)
	if pamService(dir, o.kubeService) {
		if cfg.KubePAM, err = pamclient.New(pamclient.Config{Service: o.kubeService, ConfDir: o.confDir, Timeout: o.pamTimeout, Max: o.max}); err != nil {
			return Config{}, err
		}
	} else {
		logger.Printf("serve: --kube-service %q: no such PAM service in %s; GET /token answers 501", o.kubeService, dir)
	}
	if err := o.observe.setup(&cfg, o.service, o.kubeService, logger); err != nil {
		return Config{}, err
	}
	if o.signingKey != "" {
		k, err := token.LoadKey(o.signingKey)
		if err != nil {
			return Config{}, err
		}
		if cfg.Tokens, err = token.New(k, token.Config{Issuer: o.issuer, Audience: o.audience, TTL: o.ttl}); err != nil {
			return Config{}, err
		}
		if note := discoveryNote(cfg.Tokens, o.issuer); note != "" {
			logger.Print(note)
		}
	}
	return cfg, nil
}

// pamService: name is a service file in dir (libpam would fall back to
// "other" for a missing one).
func pamService(dir, name string) bool {
	if name == "" || strings.Contains(name, "/") {
		return false
	}
	_, err := os.Stat(dir + "/" + name)
	return err == nil
}

// nssUsers is Users through getpwnam_r.
type nssUsers struct{}

func (nssUsers) Lookup(name string) (Account, bool, error) {
	p, err := nss.LookupUser(name, 0, true)
	if errors.Is(err, nss.ErrNoUser) {
		return Account{}, false, nil
	}
	if err != nil {
		return Account{}, false, err
	}
	return Account{Name: p.Name, UID: strconv.FormatUint(uint64(p.UID), 10)}, true, nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
