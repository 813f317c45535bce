package pamscript

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// convPAM records the conversation and answers every prompt.
type convPAM struct {
	fakePAM
	got [][]ConvMessage
}

func (c *convPAM) Converse(msgs []ConvMessage) ([]ConvResponse, error) {
	c.got = append(c.got, msgs)
	resp := make([]ConvResponse, len(msgs))
	for i, m := range msgs {
		if m.Style == pamconst.PromptEchoOff || m.Style == pamconst.PromptEchoOn {
			resp[i] = ConvResponse{Text: "answer", Set: true}
		}
	}
	return resp, nil
}

// TestConversationLongMessages: pam_python hands the application any
// message, however long (PAM_MAX_MSG_SIZE is advisory: the applications
// cope); so does pamh.conversation.
func TestConversationLongMessages(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sizes []int
		style int
	}{
		{"just under PAM_MAX_MSG_SIZE", []int{511}, pamconst.TextInfo},
		{"PAM_MAX_MSG_SIZE", []int{512}, pamconst.TextInfo},
		{"a banner", []int{600}, pamconst.TextInfo},
		{"a QR code", []int{4000}, pamconst.TextInfo},
		{"a long error", []int{2048}, pamconst.ErrorMsg},
		{"a long prompt", []int{1000}, pamconst.PromptEchoOn},
		{"several", []int{700, 10, 5000}, pamconst.TextInfo},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var texts []string
			for i, n := range tt.sizes {
				texts = append(texts, strings.Repeat(string(rune('a'+i)), n-1)+"\n")
			}
			src := "def pam_sm_authenticate(pamh, flags, argv):\n" +
				"    msgs = [pamh.Message(" + strconv.Itoa(tt.style) + ", t) for t in argv[1:]]\n" +
				"    r = pamh.conversation(msgs if len(msgs) > 1 else msgs[0])\n" +
				"    if len(msgs) == 1:\n" +
				"        r = (r,)\n" +
				"    for x in r:\n" +
				"        if x.resp not in (None, \"answer\"):\n" +
				"            return pamh.PAM_AUTH_ERR\n" +
				"    return pamh.PAM_SUCCESS\n"
			path := t.TempDir() + "/long.py"
			writeFile(t, path, src)
			p := &convPAM{fakePAM: fakePAM{data: map[string]string{}}}
			code, err := Run(Call{Path: path, Argv: append([]string{path}, texts...), Entry: "pam_sm_authenticate",
				PAM: p, Host: &starhost.Host{Limits: starhost.Limits{Steps: 100_000, Time: time.Second}}})
			if err != nil || code != 0 {
				t.Fatalf("code %d, %v", code, err)
			}
			if len(p.got) != 1 || len(p.got[0]) != len(texts) {
				t.Fatalf("conversations %v", p.got)
			}
			for i, m := range p.got[0] {
				if m.Text != texts[i] || m.Style != tt.style {
					t.Errorf("message %d: style %d, %d bytes; want style %d, %d bytes, unchanged", i, m.Style, len(m.Text), tt.style, len(texts[i]))
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
