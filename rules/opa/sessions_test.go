package opa

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

type sessionsOf struct {
	list []rules.Session
	err  error
}

func (s sessionsOf) Sessions(context.Context) ([]rules.Session, error) { return s.list, s.err }

// TestInputSessions (README, "Fleet policy"): input.pam_accesscontrol.sessions
// lists the user's live sessions; it is [] when they have none, and null,
// with sessions_error saying why, when they cannot be listed, so that a
// policy's count(...) == 0 fails rather than opens.
func TestInputSessions(t *testing.T) {
	for _, tt := range []struct {
		name     string
		sessions sessionsOf
		want     string // the sessions field as sent
		wantErr  string // sessions_error
	}{
		{"none", sessionsOf{}, `[]`, ""},
		{"one live, one closing, another user's", sessionsOf{list: []rules.Session{
			{User: "ops", Service: "sshd", RHost: "192.0.2.9", Class: "user", State: "active"},
			{User: "ops", Service: "sshd", Class: "user", State: "closing"},
			{User: "dev", Service: "sshd", Class: "user", State: "active"},
		}}, `[{"service":"sshd","rhost":"192.0.2.9","class":"user","state":"active"}]`, ""},
		{"cannot be listed", sessionsOf{err: errors.New("no logind, no utmp")}, `null`, "no logind, no utmp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(`{"allow":true}`)
			r.d.Sessions = tt.sessions
			if _, err := r.decide(t); err != nil {
				t.Fatal(err)
			}
			var in struct {
				AC struct {
					Sessions      json.RawMessage `json:"sessions"`
					SessionsError *string         `json:"sessions_error"`
				} `json:"pam_accesscontrol"`
			}
			if err := json.Unmarshal([]byte(r.opa.inputs["sshd/authz"]), &in); err != nil {
				t.Fatal(err)
			}
			if string(in.AC.Sessions) != tt.want {
				t.Errorf("sessions %s, want %s", in.AC.Sessions, tt.want)
			}
			switch {
			case tt.wantErr == "" && in.AC.SessionsError != nil:
				t.Errorf("sessions_error %q sent, want none", *in.AC.SessionsError)
			case tt.wantErr != "" && (in.AC.SessionsError == nil || *in.AC.SessionsError != tt.wantErr):
				t.Errorf("sessions_error %v, want %q", in.AC.SessionsError, tt.wantErr)
			}
		})
	}
}
