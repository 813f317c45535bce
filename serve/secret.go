package serve

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// secret is a password or a prompt's answer as bytes this package owns,
// so they can be zeroed once PAM is done with them (serve/pamclient zeroes
// what it is given when the transaction ends; wipe zeroes the rest). A Go
// string cannot be zeroed, so a secret never becomes one here.
//
// What is not zeroed, because Go does not let it be: the bytes net/http
// read from the connection (its bufio buffers, and HTTP/2 frames), the
// Authorization header (a string), the string the conversation hands to
// msteinert/pam for libpam (which libpam's modules copy and free as they
// will), and copies the garbage collector made while moving nothing (it
// does not move heap objects today). mlockall (mlock.go) keeps all of
// them out of swap.
type secret []byte

// UnmarshalJSON unquotes a JSON string into fresh bytes; null is no
// secret. It never makes a string of it.
func (s *secret) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		*s = nil
		return nil
	}
	b, err := unquote(raw)
	if err != nil {
		return err
	}
	*s = b
	return nil
}

func (s secret) wipe() { clear(s) }

var errNotString = errors.New("not a JSON string")

// unquote decodes a JSON string literal (already checked valid by
// encoding/json) into bytes: escapes as RFC 8259, surrogate pairs joined,
// a lone surrogate as U+FFFD (as encoding/json does).
func unquote(raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, errNotString
	}
	raw = raw[1 : len(raw)-1]
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return nil, errNotString
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+1:])
			if !ok {
				return nil, errNotString
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if v, ok := hex4(raw[i+3:]); ok {
						r2 = v
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, errNotString
		}
	}
	return out, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// readBody reads the whole (bounded) body into one buffer, so that the
// caller can zero it once decoded: a json.Decoder would keep its own
// copies.
func readBody(r *http.Request) ([]byte, error) {
	size := maxBody + 1
	if r.ContentLength >= 0 && r.ContentLength <= maxBody {
		size = int(r.ContentLength) + 1
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(r.Body, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return buf[:n], nil
	}
	clear(buf)
	if err == nil {
		return nil, errors.New("request body too large")
	}
	return nil, err
}

// basicAuth is r.BasicAuth with the password as bytes (a sub-slice of
// the decoded header, which wipe zeroes whole). ok is false without Basic
// credentials.
type basicCreds struct {
	user     string
	password []byte
	decoded  []byte
}

func basicAuth(r *http.Request) (basicCreds, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return basicCreds{}, false
	}
	dec, err := base64.StdEncoding.DecodeString(h[len(prefix):])
	if err != nil {
		return basicCreds{}, false
	}
	user, pw, ok := bytes.Cut(dec, []byte(":"))
	if !ok {
		clear(dec)
		return basicCreds{}, false
	}
	return basicCreds{user: string(user), password: pw, decoded: dec}, true
}

func (c basicCreds) wipe() { clear(c.decoded) }
