package pamd

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestConfigureTokens(t *testing.T) {
	orig, err := os.ReadFile("testdata/distros/debian12/sshd")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{TokensOnly, TokensOrPassword} {
		t.Run(mode, func(t *testing.T) {
			conf, err := ConfigureTokens("sshd", orig, debian, mode)
			if err != nil {
				t.Fatal(err)
			}
			s := string(conf)
			// the token line above common-auth, the decision line below it
			decision := Line("auth")
			if mode == TokensOrPassword {
				decision += " tokens=or-password"
			}
			want := TokenLine(mode) + "\n@include common-auth\n" + decision + "\n"
			if !strings.Contains(s, want) {
				t.Errorf("want %q in:\n%s", want, s)
			}
			if TokenMode(conf) != mode || !strings.Contains(DescribeTokens(conf), mode) {
				t.Errorf("TokenMode %q, %q", TokenMode(conf), DescribeTokens(conf))
			}
			if again, err := ConfigureTokens("sshd", conf, debian, mode); err != nil || !bytes.Equal(again, conf) {
				t.Errorf("twice: %v\n%s", err, again)
			}
			if skips, err := Skippable("sshd", conf, debian); err != nil || len(skips) > 0 {
				t.Errorf("skippable: %v %v", skips, err)
			}
			if !Configured(conf)["auth"] {
				t.Error("the decision line not seen")
			}
			if back := Clean(conf); !bytes.Equal(back, orig) {
				t.Errorf("clean:\n%s", back)
			}
			off, err := ConfigureTokens("sshd", conf, debian, TokensOff)
			if err != nil || TokenMode(off) != "" || strings.Contains(string(off), "tokens=") {
				t.Errorf("off: %v\n%s", err, off)
			}
			plain, _ := Configure("sshd", orig, debian)
			if !bytes.Equal(off, plain) {
				t.Errorf("off is not the plain configuration:\n%s", off)
			}
		})
	}
	// switching modes leaves one token line
	a, _ := ConfigureTokens("sshd", orig, debian, TokensOnly)
	b, err := ConfigureTokens("sshd", a, debian, TokensOrPassword)
	if err != nil || strings.Count(string(b), "tokenline=") != 1 || TokenMode(b) != TokensOrPassword {
		t.Errorf("switch: %v\n%s", err, b)
	}
	// a token line without our decision line below is never left: the
	// decision line is what decides logins no TOKEN rule names
	if _, ok := Configured([]byte(TokenLine(TokensOnly) + "\n"))["auth"]; ok {
		t.Error("a token line counted as the auth line")
	}
}

// A module that may end auth before the token line would let a TOKEN
// user's Unix password in: the token line must be first.
func TestTokenLineFirst(t *testing.T) {
	in := "auth sufficient pam_rootok.so\n@include common-auth\n"
	conf, err := ConfigureTokens("svc", []byte(in), debian, TokensOnly)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(conf), TokenLine(TokensOnly)) {
		t.Errorf("token line not first:\n%s", conf)
	}
}
