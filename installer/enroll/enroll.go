// Package enroll is `pam-accesscontrol enroll`: it enrolls this server
// with an OpenID Connect provider by the device authorization grant (an
// administrator approves it with a user code on another device), keeps
// the tokens root-only (internal/oidc/enrollment), refreshes them before
// they expire (--refresh, run by pam-accesscontrol-enroll-refresh.timer)
// and shows what is kept (--status), never a token.
package enroll

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/device"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/enrollment"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Usage is the verb's summary for `pam-accesscontrol help`.
const Usage = "--issuer URL --client-id ID [--client-secret-file FILE] [--scope SCOPE] [--encrypt]\n" +
	"                   | --refresh [--force] | --status\n" +
	"                   enroll this server with an OpenID Connect provider (device authorization grant)"

// DefaultScope is asked when --scope is not given.
const DefaultScope = "openid"

// lockWait bounds the wait for another enroll or refresh to finish.
const lockWait = time.Minute

// maxSecret bounds the client secret file.
const maxSecret = 4096

// options are the command line.
type options struct {
	issuer, clientID, secretFile, scope, ca string
	deviceEndpoint, tokenEndpoint           string
	stateDir                                string
	encrypt, refresh, force, status         bool
	timeout, maxWait                        time.Duration
}

// Main runs the verb.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.issuer, "issuer", "", "the provider's issuer URL (discovery: ISSUER/.well-known/openid-configuration)")
	fs.StringVar(&o.clientID, "client-id", "", "this server's client at the provider")
	fs.StringVar(&o.secretFile, "client-secret-file", "", "a root-only file holding the client secret (none: a public client)")
	fs.StringVar(&o.scope, "scope", DefaultScope, "the scopes to ask, space-separated (offline_access for a refresh token at most providers)")
	fs.StringVar(&o.ca, "ca", "", "a PEM bundle of the CAs the provider's certificate chains to (default: the system's)")
	fs.StringVar(&o.deviceEndpoint, "device-endpoint", "", "the device_authorization_endpoint, when discovery does not name it")
	fs.StringVar(&o.tokenEndpoint, "token-endpoint", "", "the token_endpoint, when discovery does not name it")
	fs.StringVar(&o.stateDir, "state-dir", enrollment.DefaultDir, "where the enrollment is kept")
	fs.BoolVar(&o.encrypt, "encrypt", false, "keep the tokens encrypted with systemd-creds (TPM2 where there is one, else the host key)")
	fs.BoolVar(&o.refresh, "refresh", false, "refresh the kept tokens when they are due (half their life, at least 15 minutes, before expiry)")
	fs.BoolVar(&o.force, "force", false, "with --refresh: refresh now, due or not")
	fs.BoolVar(&o.status, "status", false, "show the enrollment: issuer, client, scopes, expiry; never a token")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "the bound on each request to the provider")
	fs.DurationVar(&o.maxWait, "max-wait", device.DefaultMaxWait, "the bound on the wait for the approval")
	if err := fs.Parse(args); err != nil {
		return cli.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "enroll: unexpected argument %q\n", fs.Arg(0))
		return cli.ExitUsage
	}
	switch {
	case o.status && o.refresh:
		fmt.Fprintln(stderr, "enroll: --status and --refresh do not go together")
		return cli.ExitUsage
	case o.force && !o.refresh:
		fmt.Fprintln(stderr, "enroll: --force goes with --refresh")
		return cli.ExitUsage
	case o.status:
		return status(o, stdout, stderr, time.Now())
	case o.refresh:
		return refresh(o, stdout, stderr)
	case o.issuer == "" || o.clientID == "":
		fmt.Fprintln(stderr, "enroll: --issuer and --client-id are required (or --status, --refresh)")
		return cli.ExitUsage
	case o.timeout <= 0 || o.maxWait <= 0:
		fmt.Fprintln(stderr, "enroll: --timeout and --max-wait must be positive")
		return cli.ExitUsage
	}
	return enroll(o, stdout, stderr)
}

// enroll runs the device authorization grant and keeps what it got.
func enroll(o options, stdout, stderr io.Writer) int {
	ctx := context.Background()
	var sealer enrollment.Sealer
	if o.encrypt {
		c := enrollment.Creds{}
		// before the administrator approves anything
		if err := c.Available(); err != nil {
			fmt.Fprintf(stderr, "enroll: --encrypt: %v\n", err)
			return 1
		}
		sealer = c
	}
	secret, err := readSecret(o.secretFile)
	if err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	client, err := oidc.New(oidc.Options{CA: o.ca, Timeout: o.timeout})
	if err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	dc := &device.Client{DeviceEndpoint: o.deviceEndpoint, TokenEndpoint: o.tokenEndpoint, Post: client,
		Cred: oidc.Credentials{ID: o.clientID, Secret: secret, Method: oidc.ClientSecretBasic}, MaxWait: o.maxWait}
	if err := oidc.CheckIssuer(o.issuer); err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	if dc.DeviceEndpoint == "" || dc.TokenEndpoint == "" {
		md, err := client.Discover(ctx, o.issuer)
		if err != nil {
			fmt.Fprintf(stderr, "enroll: %v\n", err)
			return 1
		}
		if dc.DeviceEndpoint == "" {
			dc.DeviceEndpoint = md.DeviceAuthorizationEndpoint
		}
		if dc.TokenEndpoint == "" {
			dc.TokenEndpoint = md.TokenEndpoint
		}
		dc.Cred.Method = md.TokenAuth()
	}
	for _, e := range []struct{ name, url string }{{"device authorization", dc.DeviceEndpoint}, {"token", dc.TokenEndpoint}} {
		if e.url == "" {
			fmt.Fprintf(stderr, "enroll: %s names no %s endpoint (the provider may not offer the device grant); "+
				"give it with --device-endpoint and --token-endpoint\n", o.issuer, e.name)
			return 1
		}
		if err := oidc.CheckURL(e.url); err != nil {
			fmt.Fprintf(stderr, "enroll: %s endpoint: %v\n", e.name, err)
			return 1
		}
	}
	// checked, and held, before the administrator is asked to approve
	// anything: a refresh meanwhile would be overwritten
	if err := enrollment.CheckDir(o.stateDir); err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	unlock, err := enrollment.Lock(o.stateDir, lockWait)
	if err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	defer unlock()

	a, err := dc.Start(ctx, o.scope)
	if err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	p := cli.Printable
	fmt.Fprintf(stdout, "To enroll this server, open\n    %s\nand enter the code\n    %s\n", p(a.VerificationURI), p(a.UserCode))
	if a.VerificationURIComplete != "" {
		fmt.Fprintf(stdout, "or open\n    %s\n", p(a.VerificationURIComplete))
	}
	fmt.Fprintf(stdout, "Waiting for the approval (the code expires at %s)…\n", a.ExpiresAt.Format(time.TimeOnly))
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	tok, err := dc.Poll(ctx, a)
	if err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	now := time.Now()
	rec := enrollment.Record{Issuer: o.issuer, ClientID: o.clientID, ClientSecretFile: o.secretFile,
		AuthMethod: string(dc.Cred.Method), TokenEndpoint: dc.TokenEndpoint, CAFile: o.ca, Scope: tok.Scope,
		TokenType: tok.TokenType, EnrolledAt: now, ExpiresAt: tok.ExpiresAt, HasRefreshToken: tok.RefreshToken != "",
		Secrets: enrollment.Secrets{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}}
	if rec.Scope == "" {
		rec.Scope = o.scope // RFC 6749 §5.1: omitted when it is what was asked
	}
	if err := enrollment.Save(o.stateDir, rec, sealer); err != nil {
		fmt.Fprintf(stderr, "enroll: the provider approved, but %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Enrolled with %s as %s; kept in %s.\n", p(o.issuer), p(o.clientID), enrollment.Path(o.stateDir))
	if !rec.HasRefreshToken && !rec.ExpiresAt.IsZero() {
		fmt.Fprintf(stdout, "note: the provider gave no refresh token: enroll again before %s (ask offline_access in --scope?)\n",
			rec.ExpiresAt.Format(time.RFC3339))
	}
	return 0
}

// refresh trades the kept refresh token for new tokens when they are due.
func refresh(o options, stdout, stderr io.Writer) int {
	unlock, err := enrollment.Lock(o.stateDir, lockWait)
	if errors.Is(err, fs.ErrNotExist) {
		err = enrollment.ErrNotEnrolled
	}
	if err != nil {
		fmt.Fprintf(stderr, "enroll --refresh: %v\n", err)
		return 1
	}
	defer unlock()
	rec, err := enrollment.Load(o.stateDir)
	if err != nil {
		fmt.Fprintf(stderr, "enroll --refresh: %v\n", err)
		return 1
	}
	now := time.Now()
	if !o.force && !rec.RefreshDue(now) {
		if rec.ExpiresAt.IsZero() {
			fmt.Fprintln(stdout, "not due: the token has no expiry")
		} else {
			fmt.Fprintf(stdout, "not due: the token expires at %s, refreshed from %s on\n",
				rec.ExpiresAt.Format(time.RFC3339), rec.ExpiresAt.Add(-rec.RefreshMargin()).Format(time.RFC3339))
		}
		return 0
	}
	if !rec.HasRefreshToken {
		fmt.Fprintf(stderr, "enroll --refresh: the provider gave no refresh token: enroll again%s\n", expiry(rec, now))
		return 1
	}
	var sealer enrollment.Sealer
	if rec.Encryption == enrollment.SystemdCreds {
		sealer = enrollment.Creds{}
	}
	sec, err := rec.Unseal(sealer)
	if err != nil {
		fmt.Fprintf(stderr, "enroll --refresh: %v\n", err)
		return 1
	}
	secret, err := readSecret(rec.ClientSecretFile)
	if err != nil {
		fmt.Fprintf(stderr, "enroll --refresh: %v\n", err)
		return 1
	}
	client, err := oidc.New(oidc.Options{CA: rec.CAFile, Timeout: o.timeout})
	if err != nil {
		fmt.Fprintf(stderr, "enroll --refresh: %v\n", err)
		return 1
	}
	dc := &device.Client{TokenEndpoint: rec.TokenEndpoint, Post: client,
		Cred: oidc.Credentials{ID: rec.ClientID, Secret: secret, Method: oidc.AuthMethod(rec.AuthMethod)}}
	tok, err := dc.Refresh(context.Background(), sec.RefreshToken, "")
	if err != nil {
		var pe *device.ProtocolError
		if errors.As(err, &pe) && pe.Code == "invalid_grant" {
			fmt.Fprintf(stderr, "enroll --refresh: the provider refused the refresh token (%v): enroll again%s\n", err, expiry(rec, now))
			return 1
		}
		fmt.Fprintf(stderr, "enroll --refresh: %v%s\n", err, expiry(rec, now))
		return 1
	}
	rec.Secrets = enrollment.Secrets{AccessToken: tok.AccessToken, RefreshToken: sec.RefreshToken}
	if tok.RefreshToken != "" {
		rec.RefreshToken = tok.RefreshToken // rotated
	}
	if tok.Scope != "" {
		rec.Scope = tok.Scope
	}
	if tok.TokenType != "" {
		rec.TokenType = tok.TokenType
	}
	rec.RefreshedAt, rec.ExpiresAt = time.Now(), tok.ExpiresAt
	if err := enrollment.Save(o.stateDir, *rec, sealer); err != nil {
		fmt.Fprintf(stderr, "enroll --refresh: %v\n", err)
		return 1
	}
	if rec.ExpiresAt.IsZero() {
		fmt.Fprintln(stdout, "refreshed: the new token has no expiry")
	} else {
		fmt.Fprintf(stdout, "refreshed: the new token expires at %s\n", rec.ExpiresAt.Format(time.RFC3339))
	}
	return 0
}

// expiry says when the kept token expires, for an error.
func expiry(rec *enrollment.Record, now time.Time) string {
	switch {
	case rec.ExpiresAt.IsZero():
		return ""
	case now.Before(rec.ExpiresAt):
		return fmt.Sprintf(" (the kept token expires at %s)", rec.ExpiresAt.Format(time.RFC3339))
	}
	return fmt.Sprintf(" (the kept token expired at %s)", rec.ExpiresAt.Format(time.RFC3339))
}

// status shows the enrollment without its tokens. Exit 0: enrolled and
// the token unexpired; 1: expired, not enrolled or unreadable.
func status(o options, stdout, stderr io.Writer, now time.Time) int {
	rec, err := enrollment.Load(o.stateDir)
	if err != nil {
		fmt.Fprintf(stderr, "enroll --status: %v\n", err)
		return 1
	}
	p := cli.Printable
	row := func(k, v string) { fmt.Fprintf(stdout, "%-14s %s\n", k+":", v) }
	row("issuer", p(rec.Issuer))
	row("client", p(rec.ClientID))
	row("scopes", p(rec.Scope))
	row("enrolled", rec.EnrolledAt.Format(time.RFC3339))
	if !rec.RefreshedAt.IsZero() {
		row("refreshed", rec.RefreshedAt.Format(time.RFC3339))
	}
	code := 0
	switch {
	case rec.ExpiresAt.IsZero():
		row("expires", "never said by the provider")
	case now.Before(rec.ExpiresAt):
		row("expires", fmt.Sprintf("%s (in %s)", rec.ExpiresAt.Format(time.RFC3339), rec.ExpiresAt.Sub(now).Round(time.Second)))
	default:
		row("expires", fmt.Sprintf("%s (expired %s ago)", rec.ExpiresAt.Format(time.RFC3339), now.Sub(rec.ExpiresAt).Round(time.Second)))
		code = 1
	}
	row("refresh token", map[bool]string{true: "yes", false: "no (enroll again before it expires)"}[rec.HasRefreshToken])
	enc := rec.Encryption
	if enc == "" {
		enc = "none (the file is root's alone)"
	}
	row("encryption", enc)
	row("file", enrollment.Path(o.stateDir))
	return code
}

// readSecret reads the client secret from a root-only file; "" for none.
func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := trust.ReadFile(path, maxSecret)
	if err != nil {
		return "", fmt.Errorf("client secret: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("client secret: %s may be read by others (mode %04o); fix: chmod 0600 %s", path, st.Mode().Perm(), path)
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", fmt.Errorf("client secret: %s is empty", path)
	}
	return s, nil
}
