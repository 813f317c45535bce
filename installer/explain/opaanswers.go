package explain

import (
	"fmt"
	"strings"
)

// opaAnswers are explain's --opa-answer KEY=VALUE flags: what the user
// would type at OPA's prompts, by the prompt's key in display_spec.
type opaAnswers struct {
	byKey map[string]string
}

func (a *opaAnswers) String() string { return "" }

// all is never nil: explain answers every prompt itself, "" by default.
func (a *opaAnswers) all() map[string]string {
	if a.byKey == nil {
		return map[string]string{}
	}
	return a.byKey
}

func (a *opaAnswers) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, not %q", s)
	}
	if a.byKey == nil {
		a.byKey = map[string]string{}
	}
	a.byKey[k] = v
	return nil
}

// discard is an opa.Logger for explain: what OPA's exchange logs is in the
// trace already.
type discard struct{}

func (discard) Info(string, ...any)  {}
func (discard) Error(string, ...any) {}
