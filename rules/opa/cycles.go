package opa

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The display cycle's styles, as pam_authz names them.
const (
	StyleInfo          = "info"
	StyleError         = "error"
	StylePromptEchoOn  = "prompt_echo_on"
	StylePromptEchoOff = "prompt_echo_off"
)

// Bounds on what a policy may ask for. A policy needs a handful of each;
// more is a mistake or an attack on the user's terminal or on our memory.
const (
	maxMessages   = 32
	maxMessageLen = 4096
	maxPulls      = 64
	maxErrors     = 32
	maxErrorLen   = 1024
)

// Message is one entry of display_spec: shown (info, error) or asked
// (prompt_echo_on, prompt_echo_off), the answer going under Key.
type Message struct {
	Message string `json:"message"`
	Style   string `json:"style"`
	Key     string `json:"key,omitempty"`
}

// Prompt reports whether the message asks for an answer.
func (m Message) Prompt() bool { return m.Style == StylePromptEchoOn || m.Style == StylePromptEchoOff }

// ParseDisplay reads the display package's value: an object whose
// display_spec is a list of messages. No display_spec means nothing to
// show, as in pam_authz.
func ParseDisplay(result json.RawMessage) ([]Message, error) {
	var pkg map[string]json.RawMessage
	if err := json.Unmarshal(result, &pkg); err != nil {
		return nil, fmt.Errorf("the display package is not an object (%s)", snippet(result))
	}
	raw, ok := pkg["display_spec"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("display_spec is not a list (%s)", snippet(raw))
	}
	if len(items) > maxMessages {
		return nil, fmt.Errorf("display_spec has %d messages, more than %d", len(items), maxMessages)
	}
	out := make([]Message, 0, len(items))
	keys := map[string]bool{}
	for i, it := range items {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(it, &fields); err != nil {
			return nil, fmt.Errorf("display_spec[%d] is not an object", i)
		}
		var m Message
		for name, dst := range map[string]*string{"message": &m.Message, "style": &m.Style, "key": &m.Key} {
			v, ok := fields[name]
			if !ok {
				continue
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, fmt.Errorf("display_spec[%d].%s is not a string", i, name)
			}
		}
		switch m.Style {
		case StyleInfo, StyleError, StylePromptEchoOn, StylePromptEchoOff:
		default:
			return nil, fmt.Errorf("display_spec[%d].style %q is not info, error, prompt_echo_on or prompt_echo_off", i, clip(m.Style, 40))
		}
		if len(m.Message) > maxMessageLen || !printableText(m.Message) {
			return nil, fmt.Errorf("display_spec[%d].message is longer than %d bytes or holds control characters "+
				"(escape sequences for the user's terminal)", i, maxMessageLen)
		}
		if m.Prompt() {
			if !validKey(m.Key) {
				return nil, fmt.Errorf("display_spec[%d] is a prompt whose key %q is not 1-64 letters, digits, '_', '-' or '.'", i, clip(m.Key, 70))
			}
			if keys[m.Key] {
				return nil, fmt.Errorf("display_spec[%d]: key %q is prompted for twice", i, m.Key)
			}
			keys[m.Key] = true
		}
		out = append(out, m)
	}
	return out, nil
}

// printableText is valid UTF-8 without control characters but newline
// and tab.
func printableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\t'
	}) < 0
}

func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// PullSpec is the pull package's value: the JSON files and environment
// variables the policy wants.
type PullSpec struct {
	Files   []string
	EnvVars []string
}

// ParsePull reads the pull package's value; a missing list is empty.
func ParsePull(result json.RawMessage) (PullSpec, error) {
	var pkg map[string]json.RawMessage
	if err := json.Unmarshal(result, &pkg); err != nil {
		return PullSpec{}, fmt.Errorf("the pull package is not an object (%s)", snippet(result))
	}
	var s PullSpec
	for name, dst := range map[string]*[]string{"files": &s.Files, "env_vars": &s.EnvVars} {
		raw, ok := pkg[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return PullSpec{}, fmt.Errorf("pull %s is not a list of strings (%s)", name, snippet(raw))
		}
		if len(*dst) > maxPulls {
			return PullSpec{}, fmt.Errorf("pull %s has %d entries, more than %d", name, len(*dst), maxPulls)
		}
	}
	for _, v := range s.EnvVars {
		if !validEnvName(v) {
			return PullSpec{}, fmt.Errorf("pull env_vars: %q is not an environment variable name", clip(v, 70))
		}
	}
	for _, f := range s.Files {
		if len(f) > 4096 || !printableText(f) || strings.ContainsAny(f, "\n\t") {
			return PullSpec{}, fmt.Errorf("pull files: %q is not a path", clip(f, 70))
		}
	}
	return s, nil
}

func validEnvName(s string) bool {
	if s == "" || len(s) > 128 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Verdict is the authz answer: pam_authz's allow and errors, and our
// optional decision.
type Verdict struct {
	Allow    bool     `json:"allow"`
	Errors   []string `json:"errors,omitempty"`
	Decision string   `json:"decision,omitempty"` // OPEN, CLOSE, ASK or PIN; "" when not given
}

// Option is what the verdict joins the decision order as: decision when
// given, else allow (true OPEN, false CLOSE). A decision OPEN that allow
// false contradicts is CLOSE: the policy's own deny wins.
func (v Verdict) Option() string {
	switch {
	case v.Decision == "":
		if v.Allow {
			return "OPEN"
		}
		return "CLOSE"
	case v.Decision == "OPEN" && !v.Allow:
		return "CLOSE"
	}
	return v.Decision
}

// ParseAuthz reads the authz answer: the package's value (an object with
// allow, maybe errors and decision), or the allow rule's own value (a
// boolean) when OPA_AUTHZ names the rule itself. allow must be a JSON
// boolean; anything else is garbage.
func ParseAuthz(result json.RawMessage) (Verdict, error) {
	var allow bool
	if json.Unmarshal(result, &allow) == nil {
		return Verdict{Allow: allow}, nil
	}
	var pkg map[string]json.RawMessage
	if err := json.Unmarshal(result, &pkg); err != nil {
		return Verdict{}, fmt.Errorf("the authz answer is neither an object nor a boolean (%s)", snippet(result))
	}
	var v Verdict
	raw, ok := pkg["allow"]
	if !ok {
		return Verdict{}, fmt.Errorf("the authz answer has no allow (write default allow := false)")
	}
	if err := json.Unmarshal(raw, &v.Allow); err != nil || string(raw) == "null" {
		return Verdict{}, fmt.Errorf("allow is %s, not a boolean", snippet(raw))
	}
	if raw, ok := pkg["errors"]; ok && string(raw) != "null" {
		var errs []string
		if err := json.Unmarshal(raw, &errs); err != nil {
			// errors may be a set of anything; show what it is
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) != nil {
				return Verdict{}, fmt.Errorf("errors is %s, not a list", snippet(raw))
			}
			errs = nil
			for _, a := range items {
				errs = append(errs, string(a))
			}
		}
		for i, e := range errs {
			if i == maxErrors {
				v.Errors = append(v.Errors, fmt.Sprintf("(%d more)", len(errs)-maxErrors))
				break
			}
			v.Errors = append(v.Errors, clip(strings.ToValidUTF8(e, "?"), maxErrorLen))
		}
	}
	if raw, ok := pkg["decision"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &v.Decision); err != nil {
			return Verdict{}, fmt.Errorf("decision is %s, not a string", snippet(raw))
		}
		switch v.Decision {
		case "OPEN", "CLOSE", "ASK", "PIN":
		default:
			return Verdict{}, fmt.Errorf("decision %q is not OPEN, CLOSE, ASK or PIN", clip(v.Decision, 40))
		}
	}
	return v, nil
}
