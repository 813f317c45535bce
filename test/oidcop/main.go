// Command oidcop runs zitadel/oidc v3's example OpenID provider for the
// integration tests (test/oidc_test.go): device authorization, token
// introspection, revocation, discovery and JWKS, in memory, on loopback.
// It is a module of its own so that zitadel/oidc stays out of the
// product's go.mod.
//
// Two clients are registered: pam-access/pamsecret (the one the module
// introspects as) and other-client/othersecret. The users come from a
// JSON file (storage.StoreFromFile). The example hard-codes a 5 minute
// access token lifetime; -lifetime shortens it, as a provider's token
// lifetime setting would, so a test sees tokens expire. Every request is
// logged (the example's own request log) to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// exampleLifetime is the example storage's access token lifetime.
const exampleLifetime = 5 * time.Minute

// shortLived is the example storage with a shorter access token lifetime.
type shortLived struct {
	*storage.Storage
	lifetime time.Duration
}

func (s shortLived) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, r)
	return id, s.short(exp), err
}

func (s shortLived) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	if err := s.Storage.SetIntrospectionFromToken(ctx, in, tokenID, subject, clientID); err != nil {
		return err
	}
	exp := s.short(in.Expiration.AsTime())
	if !time.Now().Before(exp) {
		return fmt.Errorf("token is expired")
	}
	in.Expiration = oidc.FromTime(exp)
	return nil
}

func (s shortLived) short(exp time.Time) time.Time {
	if s.lifetime <= 0 || s.lifetime >= exampleLifetime {
		return exp
	}
	return exp.Add(-exampleLifetime).Add(s.lifetime)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "where to listen")
	users := flag.String("users", "", "the users file (JSON, storage.StoreFromFile)")
	lifetime := flag.Duration("lifetime", 0, "access token lifetime, shorter than the example's 5m")
	flag.Parse()
	us, err := storage.StoreFromFile(*users)
	if err != nil {
		log.Fatal(err)
	}
	storage.RegisterClients(storage.DeviceClient("pam-access", "pamsecret"), storage.DeviceClient("other-client", "othersecret"))
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	issuer := "http://" + l.Addr().String()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h := exampleop.SetupServer(issuer, shortLived{storage.NewStorage(us), *lifetime}, logger, false)
	fmt.Printf("ISSUER %s\n", issuer)
	os.Stdout.Sync()
	log.Fatal((&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(l))
}
