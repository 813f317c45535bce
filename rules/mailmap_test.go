package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

func TestParseMailMap(t *testing.T) {
	src := strings.Join([]string{
		"# the original's example",                     // 1
		"SERVER:192.168.2.1",                           // 2
		"SSHD my_email@gnu.org,your_email@example.net", // 3
		"login your_email@example.org # trailing",      // 4
		"sshd my_email@gnu.org,third@example.org",      // 5: adds up, no repeats
		"ALL audit@example.org",                        // 6
		"SDDM a@b.org, c@d.org",                        // 7: blank in the list
		"LIGHTDM Eve <eve@x.org>",                      // 8
		"GDM eve@x.org,bad,x@y.org\r",                  // 9: one bad address
		"onlyaname",                                    // 10
		"MAILSERVER:mail:99999",                        // 11
		"XDM evil@x.org\nBcc:x@y",                      // 12, 13
	}, "\n")
	m := rules.ParseMailMap("/etc/m.conf", []byte(src))
	for _, tc := range []struct {
		name string
		want string
	}{
		{"sshd", "my_email@gnu.org,your_email@example.net,third@example.org"},
		{"SSHD", "my_email@gnu.org,your_email@example.net,third@example.org"},
		{"LOGIN", "your_email@example.org"},
		{"gdm", "eve@x.org,x@y.org"},
		{"sddm", ""},
		{"lightdm", ""},
		{"su", ""},
	} {
		if got := strings.Join(m.Lookup(tc.name), ","); got != tc.want {
			t.Errorf("Lookup(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := strings.Join(m.Recipients("sshd"), ","); got != "my_email@gnu.org,your_email@example.net,third@example.org,audit@example.org" {
		t.Errorf("Recipients(sshd) = %q", got)
	}
	if got := strings.Join(m.Recipients("su"), ","); got != "audit@example.org" {
		t.Errorf("Recipients(su) = %q", got)
	}
	if m.Server != "192.168.2.1" {
		t.Errorf("server %q", m.Server)
	}
	lines := map[int]string{}
	for _, p := range m.Problems {
		lines[p.Pos.Line] = p.Message
		if p.Pos.File != "/etc/m.conf" || p.Severity != rules.Ignored {
			t.Errorf("problem %v", p)
		}
	}
	for _, n := range []int{7, 8, 9, 10, 11, 13} {
		if lines[n] == "" {
			t.Errorf("line %d: no problem reported (%v)", n, m.Problems)
		}
	}
	if len(lines) != 6 {
		t.Errorf("problems %v", m.Problems)
	}
}

func TestLoadMailMap(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	if _, err := rules.LoadMailMap(conf, rules.MailNotificationFile, true); err != rules.ErrNoMailMap {
		t.Fatalf("missing file: %v", err)
	}
	path := filepath.Join(dir, rules.LoginMailMappingFile)
	if err := os.WriteFile(path, []byte("alice alice@example.org\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o666)
	if m, err := rules.LoadMailMap(conf, rules.LoginMailMappingFile, true); err != nil || m.Lookup("alice")[0] != "alice@example.org" {
		t.Fatalf("%v %v", m, err)
	}
	if os.Geteuid() == 0 {
		if _, err := rules.LoadMailMap(conf, rules.LoginMailMappingFile, false); err == nil {
			t.Error("a world-writable PIN mapping was trusted")
		}
	}
}

// The shipped examples read cleanly, and their commented lines are what
// the files' own comments say they are.
func TestMailMapExamples(t *testing.T) {
	for _, name := range []string{rules.MailNotificationFile, rules.LoginMailMappingFile} {
		data, err := os.ReadFile(filepath.Join("..", "examples", "mail", name))
		if err != nil {
			t.Fatal(err)
		}
		if m := rules.ParseMailMap(name, data); len(m.Problems) != 0 || !m.Empty() {
			t.Errorf("%s: %v, empty %v", name, m.Problems, m.Empty())
		}
		var uncommented []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "# ") && l != "#" {
				uncommented = append(uncommented, strings.TrimPrefix(l, "#"))
			}
		}
		m := rules.ParseMailMap(name, []byte(strings.Join(uncommented, "\n")))
		if len(m.Problems) != 0 || m.Empty() {
			t.Errorf("%s uncommented: %v", name, m.Problems)
		}
	}
}
