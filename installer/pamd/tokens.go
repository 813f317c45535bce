package pamd

import (
	"fmt"
	"regexp"
	"strings"
)

// Token modes (pam-configure --tokens), docs/rules.md "Single sign-on
// tokens". Both add a token line of ours above the password modules of
// auth:
//
//   - only: [success=done ignore=ignore default=die]. For a login that a
//     TOKEN rule names, the line decides the whole login with the password
//     checked as a token: valid ends auth with success, pam_unix never
//     sees it; anything else fails auth there (a Unix password included).
//     For any other login the line answers PAM_IGNORE without reading the
//     password, and the stack goes on as before.
//   - or-password: [success=done ignore=ignore default=ignore]. The same,
//     but a refused token goes on to the password modules, and our
//     decision line below them carries tokens=or-password: for a TOKEN
//     login that reaches it, the Unix password they checked stands in for
//     the token.
//
// The token line makes the decision our auth line would (it is the same
// module deciding by the same rules), so its success=done does not count
// as skipping that line.
const (
	TokensOnly       = "only"
	TokensOrPassword = "or-password"
	TokensOff        = "off"
)

var (
	tokenLineRe = regexp.MustCompile(`^\s*-?auth\s+(\S+|\[[^\]]*\])\s+(\S*/)?pam_accesscontrol\.so\s(.*\s)?tokenline=(\S+)`)
	tokensArgRe = regexp.MustCompile(`[ \t]+tokens=\S+`)
)

// TokenLine is the token line of a mode.
func TokenLine(mode string) string {
	action := "die"
	if mode == TokensOrPassword {
		action = "ignore"
	}
	return "auth\t[success=done ignore=ignore default=" + action + "]\tpam_accesscontrol.so tokenline=" + mode
}

// isTokenLine reports whether l is a token line of ours.
func isTokenLine(l string) bool {
	if i := strings.IndexByte(l, '#'); i >= 0 {
		l = l[:i]
	}
	return tokenLineRe.MatchString(l)
}

// TokenMode says which mode a service file is in: only, or-password, or
// "" for none; a token line an admin changed is reported as its own
// tokenline= value.
func TokenMode(text []byte) string {
	for _, l := range lines(text) {
		if m := tokenLineRe.FindStringSubmatch(strings.TrimRight(l, "\n")); m != nil && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			return m[4]
		}
	}
	return ""
}

// dropTokens removes the token line and the decision line's tokens=.
func dropTokens(text []byte) []byte {
	var out []string
	for _, l := range lines(text) {
		if isTokenLine(l) {
			continue
		}
		if typ, ours := ruleLine(l); ours && typ == "auth" {
			l = tokensArgRe.ReplaceAllString(l, "")
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, ""))
}

// ConfigureTokens configures the service (Configure) in a token mode, or
// takes the token mode out (TokensOff), leaving our three lines.
func ConfigureTokens(name string, text []byte, resolve Resolver, mode string) ([]byte, error) {
	switch mode {
	case TokensOnly, TokensOrPassword, TokensOff:
	default:
		return nil, fmt.Errorf("--tokens %q: want only, or-password or off", mode)
	}
	base, err := Configure(name, dropTokens(text), resolve)
	if err != nil {
		return nil, err
	}
	if mode == TokensOff {
		return base, nil
	}
	units, err := expand(name, base, "auth", resolve)
	if err != nil {
		return nil, err
	}
	if len(units) == 0 {
		return nil, fmt.Errorf("no auth module runs in %s", name)
	}
	ls := lines(base)
	for i, l := range ls {
		if typ, ours := ruleLine(l); ours && typ == "auth" && mode == TokensOrPassword {
			ls[i] = strings.TrimRight(l, "\n") + " tokens=" + TokensOrPassword + "\n"
		}
	}
	// above the first auth module the stack runs: nothing before it may
	// read the password
	at := units[0].top
	ls = append(ls[:at], append([]string{TokenLine(mode) + "\n"}, ls[at:]...)...)
	result := []byte(strings.Join(ls, ""))
	if problems, err := Skippable(name, result, resolve); err != nil {
		return nil, err
	} else if len(problems) > 0 {
		return nil, problems[0]
	}
	return result, nil
}

// DescribeTokens says in a sentence what a service's token mode does, for
// show-pam-config; "" when it has none.
func DescribeTokens(text []byte) string {
	switch TokenMode(text) {
	case "":
		return ""
	case TokensOnly:
		return "single sign-on tokens: only (users a TOKEN rule names log in with a valid token as their password, never their Unix password; " +
			"everyone else's password goes to the password modules alone)"
	case TokensOrPassword:
		return "single sign-on tokens: or-password (users a TOKEN rule names log in with a valid token or their Unix password; " +
			"everyone else's password goes to the password modules alone)"
	}
	return fmt.Sprintf("single sign-on tokens: unknown mode %q (the module refuses the login)", TokenMode(text))
}
