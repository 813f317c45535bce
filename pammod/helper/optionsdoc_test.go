package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestModuleOptionsDocumented: every module option the shim accepts
// (is_option in pam_accesscontrol.c, which moduleArgs agrees with) has a
// row in the README's option table and an entry in pam_accesscontrol(8),
// as the README says the man page has every option; and neither documents
// an option the module would refuse.
func TestModuleOptionsDocumented(t *testing.T) {
	read := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	shim := read("../pam_accesscontrol.c")
	m := regexp.MustCompile(`(?s)keys\[\] = \{(.*?)\};`).FindStringSubmatch(shim)
	if m == nil {
		t.Fatal("no keys[] in is_option of pam_accesscontrol.c")
	}
	known := map[string]bool{"debug": true, "recursion": true}
	for _, k := range regexp.MustCompile(`"([a-z]+=)"`).FindAllStringSubmatch(m[1], -1) {
		known[k[1]] = true
	}
	if !strings.Contains(shim, `strcmp(arg, "debug") == 0 || strcmp(arg, "recursion") == 0`) || len(known) != 10 {
		t.Fatalf("is_option knows %v: update this test with the shim", known)
	}

	readme := read("../../README.md")
	_, readme, _ = strings.Cut(readme, "\n## The PAM module\n") // the table is in this section
	readme, _, _ = strings.Cut(readme, "\n## ")
	documented := map[string]bool{}
	for _, row := range regexp.MustCompile("(?m)^\\| `([a-z]+=?)[A-Z]*` \\|").FindAllStringSubmatch(readme, -1) {
		documented[row[1]] = true
	}
	page := read("../../installer/dist/pam_accesscontrol.8")
	inPage := map[string]bool{}
	for _, e := range regexp.MustCompile(`(?m)^\.BI? ([a-z]+=?)`).FindAllStringSubmatch(page, -1) {
		inPage[e[1]] = true
	}
	for k := range known {
		if !documented[k] {
			t.Errorf("option %s has no row in the README's option table", k)
		}
		if !inPage[k] {
			t.Errorf("option %s has no entry in pam_accesscontrol(8)", k)
		}
	}
	for k := range documented {
		if strings.HasSuffix(k, "=") && !known[k] {
			t.Errorf("the README's option table has %s, which the module refuses", k)
		}
	}
}
