// Command kubewebhook is kube-apiserver's webhook token authentication,
// built from Kubernetes' own code as kube-apiserver builds it for
// --authentication-token-webhook-config-file: the kubeconfig loaded by
// k8s.io/apiserver/pkg/util/webhook.LoadKubeconfig, the authenticator of
// plugin/pkg/authenticator/token/webhook (New, with the version of
// --authentication-token-webhook-version and --api-audiences as the
// implicit audiences), wrapped in the token cache
// (--authentication-token-webhook-cache-ttl) and the bearer-token request
// authenticator, each request carrying --api-audiences in its context as
// the apiserver's authentication filter puts them there.
//
// test/serve_kubeproof_test.go builds it and runs it against a running
// `pam-accesscontrol serve`. It is its own Go module so that the
// Kubernetes modules stay out of the product's go.mod.
//
// It reads one case a line on stdin, a JSON object
//
//	{"name": "...", "token": "...", "audiences": ["..."]}
//
// (audiences, when present, replace --api-audiences for that request; an
// empty list makes a request with no audiences, which the authenticator
// does not check), and writes one JSON result a line on stdout:
//
//	{"name", "authenticated", "error", "user", "uid", "groups", "extra", "audiences"}
//
//	kubewebhook -kubeconfig FILE -version v1|v1beta1 -api-audiences a,b [-cache-ttl 2m]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/token/cache"
	webhookutil "k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/apiserver/plugin/pkg/authenticator/token/webhook"
)

type testCase struct {
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	Audiences *[]string `json:"audiences"`
}

type result struct {
	Name          string              `json:"name"`
	Authenticated bool                `json:"authenticated"`
	Error         string              `json:"error,omitempty"`
	User          string              `json:"user,omitempty"`
	UID           string              `json:"uid,omitempty"`
	Groups        []string            `json:"groups,omitempty"`
	Extra         map[string][]string `json:"extra,omitempty"`
	Audiences     []string            `json:"audiences,omitempty"`
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "--authentication-token-webhook-config-file")
	version := flag.String("version", "v1beta1", "--authentication-token-webhook-version")
	apiAuds := flag.String("api-audiences", "", "--api-audiences, comma-separated")
	ttl := flag.Duration("cache-ttl", 2*time.Minute, "--authentication-token-webhook-cache-ttl")
	fastRetry := flag.Bool("fast-retry", false, "retry a failed call after 5 ms instead of kube-apiserver's 500 ms backoff")
	flag.Parse()
	if err := run(*kubeconfig, *version, *apiAuds, *ttl, *fastRetry); err != nil {
		fmt.Fprintln(os.Stderr, "kubewebhook:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, version, apiAuds string, ttl time.Duration, fastRetry bool) error {
	var implicit authenticator.Audiences
	for _, a := range strings.Split(apiAuds, ",") {
		if a = strings.TrimSpace(a); a != "" {
			implicit = append(implicit, a)
		}
	}
	// pkg/kubeapiserver/authenticator's newWebhookTokenAuthenticator
	rc, err := webhookutil.LoadKubeconfig(kubeconfig, nil)
	if err != nil {
		return err
	}
	backoff := *webhook.DefaultRetryBackoff()
	if fastRetry {
		backoff = wait.Backoff{Duration: 5 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 2}
	}
	a, err := webhook.New(rc, version, implicit, backoff)
	if err != nil {
		return err
	}
	req := bearertoken.New(cache.New(a, false, ttl, ttl))

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var c testCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			return fmt.Errorf("case %q: %v", in.Text(), err)
		}
		auds := implicit
		if c.Audiences != nil {
			auds = *c.Audiences
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// the apiserver's WithAuthentication filter: audiences only when set
		if len(auds) > 0 {
			ctx = authenticator.WithAudiences(ctx, auds)
		}
		r, err := http.NewRequestWithContext(ctx, "GET", "https://apiserver.invalid/api", nil)
		if err != nil {
			cancel()
			return err
		}
		r.Header.Set("Authorization", "Bearer "+c.Token)
		resp, ok, err := req.AuthenticateRequest(r)
		cancel()
		res := result{Name: c.Name, Authenticated: ok}
		if err != nil {
			res.Error = err.Error()
		}
		if ok && resp != nil && resp.User != nil {
			res.User, res.UID, res.Groups, res.Extra = resp.User.GetName(), resp.User.GetUID(), resp.User.GetGroups(), resp.User.GetExtra()
			res.Audiences = resp.Audiences
		}
		if err := out.Encode(res); err != nil {
			return err
		}
	}
	return in.Err()
}
