package opa

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestParseAuthz(t *testing.T) {
	for _, tt := range []struct {
		result string
		want   string // Option() and errors, or "error: …"
	}{
		{`{"allow":true}`, "OPEN []"},
		{`{"allow":false,"errors":["You cannot pass!"]}`, "CLOSE [You cannot pass!]"},
		{`true`, "OPEN []"},
		{`false`, "CLOSE []"},
		{`{"allow":true,"decision":"ASK"}`, "ASK []"},
		{`{"allow":true,"decision":"PIN"}`, "PIN []"},
		{`{"allow":false,"decision":"OPEN"}`, "CLOSE []"}, // a contradiction is a deny
		{`{"allow":false,"decision":"ASK"}`, "ASK []"},
		{`{"allow":true,"errors":[1,{"a":2}]}`, "OPEN [1 {\"a\":2}]"},
		{`{"allow":"true"}`, "error: not a boolean"},
		{`{"allow":1}`, "error: not a boolean"},
		{`{"allow":null}`, "error: not a boolean"},
		{`{}`, "error: has no allow"},
		{`{"errors":[]}`, "error: has no allow"},
		{`{"allow":true,"decision":"open"}`, "error: not OPEN, CLOSE, ASK or PIN"},
		{`{"allow":true,"decision":"NUMBER"}`, "error: not OPEN, CLOSE, ASK or PIN"},
		{`{"allow":true,"decision":true}`, "error: not a string"},
		{`{"allow":true,"errors":"x"}`, "error: not a list"},
		{`"allow"`, "error: neither an object nor a boolean"},
		{`[true]`, "error: neither an object nor a boolean"},
	} {
		v, err := ParseAuthz(json.RawMessage(tt.result))
		got := fmt.Sprintf("%s %v", v.Option(), v.Errors)
		if err != nil {
			got = "error: " + err.Error()
		}
		if want, isErr := strings.CutPrefix(tt.want, "error: "); isErr && !strings.Contains(got, want) || !isErr && got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.result, got, tt.want)
		}
	}
	many := `{"allow":false,"errors":[` + strings.Repeat(`"e",`, 100) + `"e"]}`
	if v, _ := ParseAuthz(json.RawMessage(many)); len(v.Errors) != maxErrors+1 {
		t.Errorf("%d errors kept", len(v.Errors))
	}
}

func TestParseDisplay(t *testing.T) {
	readme := `{"display_spec":[{"message":"Welcome to the OPA-PAM demonstration.","style":"info"},` +
		`{"message":"Please enter your last name: ","style":"prompt_echo_on","key":"last_name"},` +
		`{"message":"Please enter your secret: ","style":"prompt_echo_off","key":"secret"}]}`
	msgs, err := ParseDisplay(json.RawMessage(readme))
	if err != nil || len(msgs) != 3 || msgs[2].Key != "secret" || !msgs[2].Prompt() || msgs[0].Prompt() {
		t.Fatalf("pam_authz's README display: %+v %v", msgs, err)
	}
	for _, tt := range []struct{ result, want string }{
		{`{}`, ""},
		{`{"display_spec":[]}`, ""},
		{`{"display_spec":null}`, ""},
		{`[]`, "not an object"},
		{`{"display_spec":{}}`, "not a list"},
		{`{"display_spec":[1]}`, "not an object"},
		{`{"display_spec":[{"message":"x","style":"beep"}]}`, "is not info, error"},
		{`{"display_spec":[{"message":"x"}]}`, "is not info, error"},
		{`{"display_spec":[{"message":3,"style":"info"}]}`, "not a string"},
		{`{"display_spec":[{"message":"\u001b]0;owned\u0007","style":"info"}]}`, "control characters"},
		{`{"display_spec":[{"message":"x","style":"prompt_echo_on"}]}`, "key \"\" is not"},
		{`{"display_spec":[{"message":"x","style":"prompt_echo_off","key":"a b"}]}`, "is not 1-64"},
		{`{"display_spec":[{"message":"x","style":"prompt_echo_on","key":"k"},{"message":"y","style":"prompt_echo_off","key":"k"}]}`, "twice"},
		{`{"display_spec":[` + strings.Repeat(`{"message":"x","style":"info"},`, 40) + `{"message":"x","style":"info"}]}`, "more than 32"},
		{`{"display_spec":[{"message":"` + strings.Repeat("x", 5000) + `","style":"info"}]}`, "longer than"},
	} {
		_, err := ParseDisplay(json.RawMessage(tt.result))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%.80s: %v, want %q", tt.result, err, tt.want)
		}
	}
}

func TestParsePull(t *testing.T) {
	s, err := ParsePull(json.RawMessage(`{"files":["/etc/host_identity.json"],"env_vars":[]}`))
	if err != nil || len(s.Files) != 1 || len(s.EnvVars) != 0 {
		t.Fatalf("pam_authz's README pull: %+v %v", s, err)
	}
	for _, tt := range []struct{ result, want string }{
		{`{}`, ""},
		{`{"files":"/etc/shadow"}`, "not a list of strings"},
		{`{"files":[1]}`, "not a list of strings"},
		{`{"env_vars":["PATH","A B"]}`, "not an environment variable name"},
		{`{"files":["/etc/x\n"]}`, "not a path"},
		{`{"files":[` + strings.Repeat(`"/a",`, 70) + `"/a"]}`, "more than 64"},
		{`{"env_vars":[` + strings.Repeat(`"A",`, 64) + `"A"]}`, "more than 64"},
		{`{"env_vars":[` + strings.Repeat(`"A",`, 63) + `"A"]}`, ""},
		{`"x"`, "not an object"},
	} {
		_, err := ParsePull(json.RawMessage(tt.result))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%.80s: %v, want %q", tt.result, err, tt.want)
		}
	}
}
