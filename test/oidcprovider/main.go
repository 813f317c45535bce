// Command oidcprovider is zitadel/oidc v3's example OpenID provider
// (github.com/zitadel/oidc/v3/example/server/exampleop, in memory) for the
// integration tests and benchmarks (test/oidcprovider_harness_test.go):
// discovery, JWKS, the device authorization grant (RFC 8628) with its user
// pages (/device), the token endpoint, refresh tokens, introspection
// (RFC 7662) and revocation, all zitadel's own code.
//
// It is a module of its own so that zitadel stays out of the product's
// go.mod; make oidcprovider-tool builds it into build/tools. What this
// main adds to the stock example is in storage.go:
//
//   - two device clients: -client-id/-client-secret (pam-access/pamsecret,
//     the one the module and enroll use), which may also use refresh
//     tokens (the stock DeviceClient may not), and -other-client-id/
//     -other-client-secret (other-client/othersecret), whose tokens the
//     first must not take for its own;
//   - device grant tokens name their client (client_id in introspection),
//     as the stock storage does for the code flow's; without it, it also
//     refuses their refresh token with invalid_grant;
//   - users from a JSON file (-users, storage.StoreFromFile) whose IDs must
//     be their user names: the device flow stores the user name as the
//     subject, introspection looks users up by ID. Without -users:
//     alice/alicepw and bob/bobpw;
//   - -lifetime: access tokens expire this soon (the example hard-codes
//     5 minutes), in the token response, in introspection and for real
//     (introspection answers inactive after), so a test sees tokens expire;
//   - -code-lifetime: device codes expire this soon in the provider's
//     storage, while the provider still announces 5 minutes, so the
//     provider answers expired_token in a test that cannot wait 5 minutes;
//   - -slow-polls N: the first N polls find the storage slow, which is
//     when zitadel answers slow_down (op.CheckDeviceAuthorizationState).
//
// It listens on -listen (127.0.0.1:0 by default), prints
// "issuer http://127.0.0.1:PORT" on stdout once it serves, and with -v
// logs every request on stderr (msg="http request" … path=/oauth/token).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	clientID := flag.String("client-id", "pam-access", "the device client's id (it may also refresh)")
	secret := flag.String("client-secret", "pamsecret", "the device client's secret")
	otherID := flag.String("other-client-id", "other-client", "a second device client's id (empty: none)")
	otherSecret := flag.String("other-client-secret", "othersecret", "the second device client's secret")
	usersFile := flag.String("users", "", "a JSON map of user ID to user (ID equal to Username); default alice/alicepw, bob/bobpw")
	lifetime := flag.Duration("lifetime", 0, "access tokens expire this soon (0: the example's 5 minutes; at most 5 minutes)")
	codeLifetime := flag.Duration("code-lifetime", 0, "device codes expire this soon in storage (0: as announced, 5 minutes)")
	slowPolls := flag.Int("slow-polls", 0, "the first N polls of the token endpoint find the storage slow (slow_down)")
	verbose := flag.Bool("v", false, "log every request on stderr")
	flag.Parse()
	if *lifetime < 0 || *lifetime > exampleLifetime {
		log.Fatalf("-lifetime %v: between 0 and %v", *lifetime, exampleLifetime)
	}

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
	clients := []*storage.Client{storage.DeviceClient(*clientID, *secret)}
	if *otherID != "" {
		clients = append(clients, storage.DeviceClient(*otherID, *otherSecret))
	}
	storage.RegisterClients(clients...)
	st := &testStorage{Storage: storage.NewStorage(users), refreshClient: *clientID, lifetime: *lifetime, codeLifetime: *codeLifetime}
	st.slowPolls.Store(int64(*slowPolls))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
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
