package explain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// sessionList is explain's stand-in for systemd-logind: the live sessions
// read from a JSON file. It also answers ASK's "already approved" question:
// a live sshd session of the user from the same host is taken as approved,
// since under an ASK rule it could only have been let in that way.
type sessionList []rules.Session

func readSessions(path string) (sessionList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var list sessionList
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: %v (want a JSON list of {\"user\", \"service\", \"rhost\", \"class\", \"state\"})", path, err)
	}
	for i := range list {
		s := &list[i]
		if s.User == "" {
			return nil, fmt.Errorf("%s: session %d has no user", path, i+1)
		}
		if s.Class == "" {
			s.Class = "user"
		}
		if s.State == "" {
			s.State = "active"
		}
	}
	return list, nil
}

func (l sessionList) Sessions(context.Context) ([]rules.Session, error) { return l, nil }

func (l sessionList) Approved(_ context.Context, user, rhost string) (bool, error) {
	for _, s := range l {
		if s.Live() && s.User == user && s.RHost == rhost && s.Service == "sshd" {
			return true, nil
		}
	}
	return false, nil
}
