// Command oidcprovider is zitadel/oidc v3's example OpenID provider
// (github.com/zitadel/oidc/v3/example/server/exampleop, in memory) for the
// integration tests: discovery, the device authorization grant (RFC 8628)
// with its user pages (/device), the token endpoint, refresh tokens and
// introspection (RFC 7662), all zitadel's own code.
//
// It is a module of its own so that zitadel stays out of the product's
// go.mod; test/ builds it. What this main adds to the stock example:
//
//   - one device client (-client-id, -client-secret) that may also use
//     refresh tokens (the stock DeviceClient may not), and whose device
//     grant's tokens name it (the stock storage keeps no client for them,
//     and then refuses their refresh token with invalid_grant), so that
//     `pam-accesscontrol enroll --refresh` can be tested;
//   - users from a file whose IDs are their user names (the device flow
//     stores the user name as subject, introspection looks users up by
//     ID), or alice/alicepw and bob/bobpw;
//   - -code-lifetime: device codes expire this soon in the provider's
//     storage, while the provider still announces 5 minutes, so the
//     provider answers expired_token in a test that cannot wait 5 minutes;
//   - -slow-polls N: the first N polls find the storage slow, which is
//     when zitadel answers slow_down (op.CheckDeviceAuthorizationState).
//
// It listens on -listen (127.0.0.1:0 by default) and prints
// "issuer http://127.0.0.1:PORT" on stdout once it serves.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	clientID := flag.String("client-id", "pam-access", "the device client's id")
	secret := flag.String("client-secret", "pamsecret", "the device client's secret")
	usersFile := flag.String("users", "", "a JSON map of user ID to user (ID equal to Username); default alice/alicepw, bob/bobpw")
	codeLifetime := flag.Duration("code-lifetime", 0, "device codes expire this soon in storage (0: as announced, 5 minutes)")
	slowPolls := flag.Int("slow-polls", 0, "the first N polls of the token endpoint find the storage slow (slow_down)")
	verbose := flag.Bool("v", false, "log every request on stderr")
	flag.Parse()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()

	path := *usersFile
	if path == "" {
		path = filepath.Join(os.TempDir(), fmt.Sprintf("oidcprovider-users-%d.json", os.Getpid()))
		users := map[string]storage.User{
			"alice": {ID: "alice", Username: "alice", Password: "alicepw", FirstName: "Alice", Email: "alice@example.org"},
			"bob":   {ID: "bob", Username: "bob", Password: "bobpw", FirstName: "Bob", Email: "bob@example.org"},
		}
		data, _ := json.Marshal(users)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			log.Fatal(err)
		}
		defer os.Remove(path)
	}
	users, err := storage.StoreFromFile(path)
	if err != nil {
		log.Fatal(err)
	}
	storage.RegisterClients(storage.DeviceClient(*clientID, *secret))
	st := &testStorage{Storage: storage.NewStorage(users), refreshClient: *clientID, codeLifetime: *codeLifetime}
	st.slowPolls.Store(int64(*slowPolls))

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	router := exampleop.SetupServer(issuer, st, logger, false)
	fmt.Printf("issuer %s\n", issuer)
	os.Stdout.Sync()
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// testStorage is the example's in-memory storage with the changes the
// package comment lists.
type testStorage struct {
	*storage.Storage
	refreshClient string
	codeLifetime  time.Duration
	slowPolls     atomic.Int64
}

// GetClientByClientID adds the refresh grant to the device client.
func (s *testStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || id != s.refreshClient {
		return c, err
	}
	return refreshingClient{c}, nil
}

type refreshingClient struct{ op.Client }

func (c refreshingClient) GrantTypes() []oidc.GrantType {
	return append(slices.Clone(c.Client.GrantTypes()), oidc.GrantTypeRefreshToken)
}

// CreateAccessAndRefreshTokens names the client of a device grant's
// tokens, as the storage does for the code flow's.
func (s *testStorage) CreateAccessAndRefreshTokens(ctx context.Context, request op.TokenRequest, current string) (string, string, time.Time, error) {
	if d, ok := request.(*op.DeviceAuthorizationState); ok {
		request = &storage.RefreshTokenRequest{RefreshToken: &storage.RefreshToken{ApplicationID: d.ClientID, UserID: d.Subject,
			Audience: d.GetAudience(), Scopes: d.Scopes, AuthTime: d.AuthTime, AMR: d.AMR}}
	}
	return s.Storage.CreateAccessAndRefreshTokens(ctx, request, current)
}

// StoreDeviceAuthorization keeps the code for -code-lifetime when set.
func (s *testStorage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	if s.codeLifetime > 0 {
		expires = time.Now().Add(s.codeLifetime)
	}
	return s.Storage.StoreDeviceAuthorization(ctx, clientID, deviceCode, userCode, expires, scopes)
}

// GetDeviceAuthorizatonState (zitadel's spelling) is slow for the first
// -slow-polls polls: it waits out the request's deadline, as a storage
// under load would, and zitadel answers slow_down.
func (s *testStorage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if s.slowPolls.Add(-1) >= 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Storage.GetDeviceAuthorizatonState(ctx, clientID, deviceCode)
}
