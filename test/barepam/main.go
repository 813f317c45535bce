// Command barepam is the bare server `make bench` measures serve against
// (test/servebench): what pam_hook is, a net/http server whose every
// request is one PAM transaction with github.com/msteinert/pam/v2 and
// nothing else. HTTP Basic credentials; pam_start (pam_start_confdir with
// -confdir), pam_authenticate, pam_acct_mgmt, pam_end; the conversation
// answers every prompt with the password, as pam_hook's did; PAM_RHOST is
// the client's address, as serve sets it (pam_hook set none), so that both
// run the same transaction. 200 "ok" on
// success, 403 otherwise. Plain HTTP: a benchmark tool on loopback only.
//
//	barepam -listen 127.0.0.1:PORT -confdir DIR -service NAME
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"

	"github.com/msteinert/pam/v2"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address")
	confDir := flag.String("confdir", "", "pam_start_confdir's directory")
	service := flag.String("service", "web", "PAM service")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok {
			http.Error(w, "Supply username and password", http.StatusUnauthorized)
			return
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if err := login(*service, *confDir, user, host, password); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		w.Write([]byte("ok\n"))
	})
	if err := http.ListenAndServe(*listen, nil); err != nil {
		fmt.Fprintln(os.Stderr, "barepam:", err)
		os.Exit(1)
	}
}

// login is one whole transaction on one OS thread, as serve's pamclient
// runs it (modules may keep thread-local state).
func login(service, confDir, user, rhost, password string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	conv := pam.ConversationFunc(func(pam.Style, string) (string, error) { return password, nil })
	var tx *pam.Transaction
	var err error
	if confDir != "" {
		tx, err = pam.StartConfDir(service, user, conv, confDir)
	} else {
		tx, err = pam.Start(service, user, conv)
	}
	if err != nil {
		return err
	}
	defer tx.End()
	// the client's address, as serve gives it: the same transaction
	if err := tx.SetItem(pam.Rhost, rhost); err != nil {
		return err
	}
	if err := tx.Authenticate(0); err != nil {
		return err
	}
	return tx.AcctMgmt(pam.Silent)
}
