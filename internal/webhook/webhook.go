// Package webhook delivers audit events to an HTTP endpoint, as a POST of
// the event's JSON signed with HMAC-SHA256, the way the LemonLDAP::NG PAM
// module notifies. Events wait in a spool directory and a separate process
// sends them, so a slow or dead endpoint never delays or denies a login.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body.
const SignatureHeader = "X-Pam-Accesscontrol-Signature"

// Sign is the header value for body.
func Sign(secret []byte, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature in constant time, for receivers.
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}

// maxSpool bounds the events kept while the endpoint is down.
const maxSpool = 10000

// Enqueue puts one event's JSON into the spool.
func Enqueue(dir string, body []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > maxSpool {
		return fmt.Errorf("webhook spool %s is full (%d events): is the endpoint down?", dir, len(entries))
	}
	id := make([]byte, 6)
	rand.Read(id)
	name := fmt.Sprintf("%020d-%s.json", time.Now().UnixNano(), hex.EncodeToString(id))
	tmp := filepath.Join(dir, "."+name)
	if err := os.WriteFile(tmp, body, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// Deliver sends the spooled events in order, each under timeout, and
// removes each one the endpoint accepted (2xx). It stops at the first
// failure, leaving the rest for the next run. Only one Deliver runs per
// spool at a time.
func Deliver(dir, url string, secret []byte, timeout time.Duration) (sent int, err error) {
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return 0, nil // another deliverer is at it
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	client := &http.Client{Timeout: timeout}
	for _, n := range names {
		path := filepath.Join(dir, n)
		body, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if err := post(client, url, secret, body); err != nil {
			return sent, err
		}
		os.Remove(path)
		sent++
	}
	return sent, nil
}

func post(client *http.Client, url string, secret, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), client.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(secret, body))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errors.New("the endpoint answered " + resp.Status)
	}
	return nil
}
