package serve

import (
	"errors"
	"fmt"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
)

// account is the name a token is issued for after a PAM transaction
// succeeded: PAM_USER as the stack left it (the account it authenticated,
// which a module may have mapped from the name the client typed), spelt as
// NSS spells it. A case-insensitive directory (sssd, winbind) lets "ALICE"
// in as alice: the token, its groups and Kubernetes' RBAC must all say
// alice, as the module's rules did (they match the NSS name), or the same
// person holds two identities. A user NSS does not know keeps PAM_USER.
func (s *Server) account(res pamclient.Result) (string, error) {
	if res.User == "" {
		return "", errors.New("PAM did not say which account it authenticated")
	}
	if s.cfg.Users == nil {
		return res.User, nil
	}
	a, found, err := s.cfg.Users.Lookup(res.User)
	if err != nil {
		return "", err
	}
	if !found {
		return res.User, nil
	}
	return a.Name, nil
}

// limitName is the name a login's rate limits and audit events go by,
// before PAM runs: the NSS spelling of the name typed where NSS knows it,
// so that "ALICE", "Alice" and "alice" share alice's budget on a
// case-insensitive directory (each spelling its own budget would give a
// guesser three free failures per spelling); the name as typed otherwise.
func (s *Server) limitName(typed string) string {
	if s.cfg.Users == nil {
		return typed
	}
	if a, found, err := s.cfg.Users.Lookup(typed); err == nil && found {
		return a.Name
	}
	return typed
}

// accountGroups is the account a successful transaction let in (account)
// and its groups, what a token is issued for.
func (s *Server) accountGroups(res pamclient.Result) (string, []string, error) {
	user, err := s.account(res)
	if err != nil {
		return "", nil, fmt.Errorf("account: %w", err)
	}
	groups, err := s.groupsOf(user)
	if err != nil {
		return "", nil, fmt.Errorf("groups: %w", err)
	}
	return user, groups, nil
}
