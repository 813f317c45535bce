package pamd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// serveStacks are the services of pam-accesscontrol serve: "web" (beesly's
// API) and "kubernetes" (GET /token). pam-configure writes them whole when
// they are not there: serve's logins are a password and an account, so
// pam_unix checks both (it reads /etc/shadow: serve runs as root) and our
// module decides by the rules (WEB ..., KUBERNETES ...). requisite: a
// wrong password ends the stack at once, so the rules (and an ASK to a
// desktop owner) only see logins whose password was right. No nullok: a
// user without a password never gets a token. No session: serve opens
// none.
var serveStacks = map[string]string{
	"web":        "beesly's API: POST /auth, /renew",
	"kubernetes": "pam_hook's API: GET /token, for kubectl",
}

// ServeStack is the file pam-configure writes for a service of serve's;
// ok is false for any other service.
func ServeStack(service string) (text []byte, ok bool) {
	what, ok := serveStacks[service]
	if !ok {
		return nil, false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# PAM service %q of pam-accesscontrol serve (%s), written by\n", service, what)
	fmt.Fprintf(&b, "# `pam-accesscontrol pam-configure %s`; make-pam-clean removes it while unchanged.\n", service)
	fmt.Fprintf(&b, "# pam_unix checks the password and the account; pam-accesscontrol's rules\n")
	fmt.Fprintf(&b, "# (%s ... lines) decide.\n", strings.ToUpper(service))
	b.WriteString("auth\trequisite\tpam_unix.so\n")
	b.WriteString(Line("auth") + "\n")
	b.WriteString("account\trequired\tpam_unix.so\n")
	b.WriteString(Line("account") + "\n")
	return []byte(b.String()), true
}

// IsServeStack: service is one of serve's.
func IsServeStack(service string) bool {
	_, ok := serveStacks[service]
	return ok
}

// Create writes a new service file, root's and 0644, under the lock Write
// takes, never over a file that is there: the file is complete (synced,
// then linked into place) or not there at all.
func (t Tree) Create(service string, text []byte) (string, error) {
	if service == "" || filepath.Base(service) != service || service[0] == '.' {
		return "", fmt.Errorf("%q is not a PAM service name", service)
	}
	path := filepath.Join(t.Dir(), service)
	unlock, err := t.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	tmp := filepath.Join(t.Dir(), "."+service+".pam-accesscontrol.tmp")
	os.Remove(tmp)
	if err := writeSynced(tmp, text, 0o644); err != nil {
		os.Remove(tmp)
		return "", err
	}
	defer os.Remove(tmp)
	if err := os.Chown(tmp, 0, 0); err != nil {
		return "", err
	}
	if err := os.Link(tmp, path); err != nil {
		return "", err
	}
	if d, err := os.Open(t.Dir()); err == nil {
		d.Sync()
		d.Close()
	}
	return path, nil
}

// Remove takes f's file away, under the lock, only if nobody changed it
// since Read, with a backup as Write keeps.
func (t Tree) Remove(f *File) (backup string, err error) {
	unlock, err := t.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	now, err := os.ReadFile(f.Path)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(now, f.Text) {
		return "", fmt.Errorf("%s changed while this ran; run it again", f.Path)
	}
	backup = filepath.Join(t.backupDir(), fmt.Sprintf("%s.%s", f.Service, time.Now().Format("20060102-150405.000000000")))
	if err := writeSynced(backup, f.Text, 0o600); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := os.Remove(f.Path); err != nil {
		return "", err
	}
	return backup, nil
}

// lock takes the lock of the backup directory, where Write takes it.
func (t Tree) lock() (func(), error) {
	if err := os.MkdirAll(t.backupDir(), 0o700); err != nil {
		return nil, err
	}
	l, err := os.OpenFile(filepath.Join(t.backupDir(), ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(l.Fd()), syscall.LOCK_EX); err != nil {
		l.Close()
		return nil, err
	}
	return func() { l.Close() }, nil
}
