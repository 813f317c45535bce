// Package webhook delivers audit events to an HTTP endpoint, as a POST of
// the event's JSON signed with HMAC-SHA256, the way the LemonLDAP::NG PAM
// module notifies. The helper puts events in the outbox (internal/outbox)
// and the deliverer posts them, so a slow or dead endpoint never delays or
// denies a login.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
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

// Post sends one event's JSON to url, signed with secret, within timeout.
// Anything but a 2xx answer is an error (a redirect is not followed). An endpoint on this host is
// refused unless root holds its port: whoever else listens there while the
// receiver is down would read the events (internal/localpeer).
func Post(url string, secret, body []byte, timeout time.Duration) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true // one request per client
	d := &net.Dialer{Timeout: timeout}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return localpeer.Dial(ctx, d, network, addr)
	}
	// A redirect is an answer like any other that is not 2xx: the event
	// is kept. Followed, a 307 or 308 would send the signed event again
	// to wherever the answer points, another host included.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return post(&http.Client{Timeout: timeout, Transport: tr, CheckRedirect: noRedirect}, url, secret, body)
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
