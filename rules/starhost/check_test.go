package starhost

import (
	"strings"
	"testing"
)

func TestCheckScript(t *testing.T) {
	src := `import syslog
import requests
class Foo:
    pass
def pam_sm_authenticate(pamh, flags, argv):
    global counter
    try:
        user = pamh.get_user()
    except pamh.exception as e:
        return e.pam_result
    print "hello"
    msg = f"user {user}"
    if 0 < len(user) < 8:
        os.chmod(p, 0700)
    if user is "root":
        raise Exception("no")
    return pamh.PAM_SUCCESS  # try: this comment is no code
`
	findings, err := CheckScript("x.py", []byte(src))
	if err == nil {
		t.Fatal("a script full of Python compiles?")
	}
	var got []string
	for _, f := range findings {
		got = append(got, strings.Join([]string{itoa(f.Line), f.What}, " "))
		if f.Hint == "" {
			t.Errorf("line %d: no hint", f.Line)
		}
	}
	want := []string{"3 class", "6 global", "7 try/except", "9 try/except", "11 print statement", "12 f-string",
		"13 chained comparison", "14 legacy octal", "15 is", "16 raise", "2 import"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, ","), strings.Join(want, ","))
	}
	clean, err := CheckScript("ok.py", []byte("import syslog\ndef pam_sm_authenticate(pamh, flags, argv):\n    if pamh.user is None:\n        return pamh.PAM_USER_UNKNOWN\n    return pamh.PAM_SUCCESS if 1 << 3 > 2 else 3\n"))
	if err != nil || len(clean) != 0 {
		t.Errorf("a portable script: %v, %v", clean, err)
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
