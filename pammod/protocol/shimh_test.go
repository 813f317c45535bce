package protocol

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// shimMessages are the message types under the names pammod/shim.h gives
// them.
var shimMessages = map[string]byte{
	"MSG_CALL": MsgCall, "MSG_REPLY": MsgReply, "MSG_GET_ITEM": MsgGetItem, "MSG_SET_ITEM": MsgSetItem,
	"MSG_GET_USER": MsgGetUser, "MSG_CONV": MsgConv, "MSG_GET_ENV": MsgGetEnv, "MSG_PUT_ENV": MsgPutEnv,
	"MSG_ENV_LIST": MsgEnvList, "MSG_FAIL_DELAY": MsgFailDelay, "MSG_GET_DATA": MsgGetData,
	"MSG_SET_DATA": MsgSetData, "MSG_GET_XAUTH": MsgGetXAuth, "MSG_SET_XAUTH": MsgSetXAuth, "MSG_RESULT": MsgResult, "MSG_VERSION": MsgVersion,
}

// shimLimits are the protocol's numbers under shim.h's names.
var shimLimits = map[string]int{
	"PAMAC_PROTOCOL_VERSION": Version,
	"PAMAC_MAX_FRAME":        MaxFrame,
	"PAMAC_MAX_FIELDS":       MaxFields,
	"AUTH_NOT_SEEN":          int(AuthNotSeen),
	"AUTH_SUCCEEDED":         int(AuthSucceeded),
	"AUTH_FAILED":            int(AuthFailed),
	"AUTH_UNKNOWN":           int(AuthUnknown),
}

// TestShimMessageNames checks that shimMessages names every message type
// of both sides: the MSG_ names in shim.h and the Msg constants here.
func TestShimMessageNames(t *testing.T) {
	h, err := os.ReadFile("../shim.h")
	if err != nil {
		t.Fatal(err)
	}
	inC := regexp.MustCompile(`\b(MSG_[A-Z_]+)\s*=`).FindAllSubmatch(h, -1)
	if len(inC) != len(shimMessages) {
		t.Errorf("shim.h has %d MSG_ names, the test knows %d", len(inC), len(shimMessages))
	}
	for _, m := range inC {
		if _, ok := shimMessages[string(m[1])]; !ok {
			t.Errorf("shim.h's %s is not in shimMessages", m[1])
		}
	}
	f, err := parser.ParseFile(token.NewFileSet(), "messages.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	inGo := 0
	ast.Inspect(f, func(n ast.Node) bool {
		if v, ok := n.(*ast.ValueSpec); ok {
			for _, id := range v.Names {
				if strings.HasPrefix(id.Name, "Msg") {
					inGo++
				}
			}
		}
		return true
	})
	if inGo != len(shimMessages) {
		t.Errorf("messages.go has %d Msg constants, shimMessages %d", inGo, len(shimMessages))
	}
}

// TestAgainstShimHeader compiles a program that prints shim.h's values and
// compares them with this package's.
func TestAgainstShimHeader(t *testing.T) {
	shimH, err := filepath.Abs("../shim.h")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for n, v := range shimLimits {
		want[n] = v
	}
	for n, v := range shimMessages {
		want[n] = int(v)
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	var src strings.Builder
	fmt.Fprintf(&src, "#include %q\n#include <stdio.h>\n\nint main(void)\n{\n", shimH)
	for _, n := range names {
		fmt.Fprintf(&src, "\tprintf(\"%%s %%lld\\n\", %q, (long long)(%s));\n", n, n)
	}
	// the login id's per-handle data: where a version 1 module's set data
	// put it, a version 2 module keeps it
	src.WriteString("\tprintf(\"login-key %s\\n\", PAMAC_LOGIN_KEY);\n\tprintf(\"data-prefix %s\\n\", PAMAC_DATA_PREFIX);\n")
	src.WriteString("\treturn 0;\n}\n")

	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(testenv.RunC(t, src.String())), "\n") {
		n, v, _ := strings.Cut(line, " ")
		got[n] = v
	}
	for _, n := range names {
		if got[n] != strconv.Itoa(want[n]) {
			t.Errorf("%s: Go has %d, shim.h %s", n, want[n], got[n])
		}
	}
	if got["login-key"] == "" || got["login-key"] != got["data-prefix"]+LoginDataKey {
		t.Errorf("PAMAC_LOGIN_KEY is %q, want PAMAC_DATA_PREFIX (%q) + %q", got["login-key"], got["data-prefix"], LoginDataKey)
	}
}
