package opa

import (
	"encoding/json"
	"strings"
)

// Input is what the authz cycle sends, pam_authz's keys and ours. The
// display and pull cycles get the same, without the responses.
type Input struct {
	DisplayResponses map[string]string `json:"display_responses"`
	PullResponses    PullResponses     `json:"pull_responses"`
	Sysinfo          Sysinfo           `json:"sysinfo"`
	// AccessControl is what pam-accesscontrol's rules know of the login,
	// under one key of its own, so that pam_authz's keys stay as they are.
	AccessControl Facts `json:"pam_accesscontrol"`

	secret map[string]bool // keys of echo-off answers
}

// PullResponses are the pulled files (path to contents) and environment
// variables (name to value).
type PullResponses struct {
	Files   map[string]any    `json:"files"`
	EnvVars map[string]string `json:"env_vars"`
}

// Sysinfo is pam_authz's view of the PAM transaction.
type Sysinfo struct {
	PamUsername    string `json:"pam_username"`     // PAM_USER as NSS names the account (see Facts.PAMUser)
	PamService     string `json:"pam_service"`      // PAM_SERVICE
	PamReqUsername string `json:"pam_req_username"` // PAM_RUSER
	PamReqHostname string `json:"pam_req_hostname"` // PAM_RHOST
}

// Facts are what our rules know and pam_authz does not.
type Facts struct {
	// Auth is the SERVICE field the login's rules see: SSHD for an sshd
	// login with PAM authentication, SSHD-KEY without (public key,
	// certificate), else the upper-cased PAM service.
	Auth string `json:"auth"`
	// Method is password, key or none (rules.AuthKind).
	Method string   `json:"method"`
	Groups []string `json:"groups"`
	TTY    string   `json:"tty"`
	// Sessions are the user's live sessions; null (not []) when they
	// cannot be listed (no logind, no utmp), with SessionsError saying why.
	Sessions      []Session `json:"sessions"`
	SessionsError string    `json:"sessions_error,omitempty"`
	Rule          string    `json:"rule"` // file:line of the OPA rule that asked
	// PAMUser is PAM_USER as the application gave it, when NSS names the
	// account otherwise (sysinfo.pam_username).
	PAMUser string `json:"pam_user,omitempty"`
	// ServerGroup is SERVER_GROUP ("default" when not set): one policy
	// for many servers decides per group, as LemonLDAP::NG's server groups.
	ServerGroup string `json:"server_group"`
}

// Session is one of the user's live sessions, as logind lists it.
type Session struct {
	Service string `json:"service"`
	RHost   string `json:"rhost"`
	TTY     string `json:"tty,omitempty"`
	Type    string `json:"type,omitempty"`
	Class   string `json:"class,omitempty"`
	State   string `json:"state,omitempty"`
}

// Mask is what a secret shows as in logs, the audit trail and explain.
const Mask = "********"

// setResponse records the answer to a prompt; secret ones are masked in
// every copy of the input that is shown anywhere.
func (in *Input) setResponse(key, answer string, secret bool) {
	if in.DisplayResponses == nil {
		in.DisplayResponses = map[string]string{}
	}
	in.DisplayResponses[key] = answer
	if secret {
		if in.secret == nil {
			in.secret = map[string]bool{}
		}
		in.secret[key] = true
	}
}

// Masked is the input as it may be shown: echo-off answers replaced by
// Mask (and an empty one too, so that the trace tells no length).
func (in *Input) Masked() Input {
	out := *in
	out.DisplayResponses = make(map[string]string, len(in.DisplayResponses))
	for k, v := range in.DisplayResponses {
		if in.secret[k] {
			v = Mask
		}
		out.DisplayResponses[k] = v
	}
	out.secret = nil
	return out
}

// MaskedJSON is Masked as one line of JSON, for the trace.
func (in *Input) MaskedJSON() string {
	m := in.Masked()
	data, err := json.Marshal(m)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return in.Scrub(string(data))
}

// Scrub replaces every echo-off answer found in s by Mask: a policy may
// echo its input in an error message, and a secret must never reach a
// log line that way.
func (in *Input) Scrub(s string) string {
	for k := range in.secret {
		if v := in.DisplayResponses[k]; len(v) >= 1 {
			s = strings.ReplaceAll(s, v, Mask)
			// as JSON would escape it too
			if q, err := json.Marshal(v); err == nil && len(q) > 2 {
				s = strings.ReplaceAll(s, string(q[1:len(q)-1]), Mask)
			}
		}
	}
	return s
}
