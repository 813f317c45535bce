package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"SSHD OPEN USER alice": "SSHD OPEN USER alice",
		"a\tb":                 "a\tb",
		"evil\x1b[2Jline":      `evil\x1b[2Jline`,
		"bad \xff utf-8":       `bad \xff utf-8`,
		"carriage\rreturn":     `carriage\rreturn`,
		"ünïcödé is printable": "ünïcödé is printable",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.conf")
	if err := os.WriteFile(path, []byte("first\r\n  second  \nthird\x07\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Lines{}
	for _, tt := range []struct {
		pos  rules.Pos
		want string
	}{
		{rules.Pos{File: path, Line: 1}, "first"},
		{rules.Pos{File: path, Line: 2}, "second"},
		{rules.Pos{File: path, Line: 3}, `third\a`},
		{rules.Pos{File: path, Line: 9}, ""},
		{rules.Pos{File: path}, ""},
		{rules.Pos{File: path + ".gone", Line: 1}, ""},
	} {
		if got := c.Get(tt.pos); got != tt.want {
			t.Errorf("Get(%v) = %q, want %q", tt.pos, got, tt.want)
		}
	}
	os.WriteFile(path, []byte("changed\n"), 0o644)
	if got := c.Get(rules.Pos{File: path, Line: 1}); got != "first" {
		t.Errorf("a file was read twice: %q", got)
	}
}
