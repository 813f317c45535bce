package call

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// opaStandIn is an OPA for the call flow's unit tests (the integration
// tests run the real one): pam_authz's README display, a pull of
// nothing, and an authz that allows the secret "suresh". With noSecret,
// the display only greets and authz allows everyone.
type opaStandIn struct {
	mu       sync.Mutex
	down     bool
	noSecret bool
	authz    []string // inputs received
}

func (o *opaStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down {
		http.Error(w, `{"code":"internal_error","message":"down"}`, 500)
		return
	}
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/v1/data/display":
		if o.noSecret {
			fmt.Fprint(w, `{"result":{"display_spec":[{"message":"Welcome.","style":"info"}]}}`)
			break
		}
		fmt.Fprint(w, `{"result":{"display_spec":[{"message":"Welcome.","style":"info"},`+
			`{"message":"Secret: ","style":"prompt_echo_off","key":"secret"}]}}`)
	case "/v1/data/sshd/authz":
		o.authz = append(o.authz, string(body))
		var in struct {
			Input struct {
				DisplayResponses map[string]string `json:"display_responses"`
			} `json:"input"`
		}
		json.Unmarshal(body, &in)
		allow := o.noSecret || in.Input.DisplayResponses["secret"] == "suresh"
		fmt.Fprintf(w, `{"result":{"allow":%v,"errors":["no"]}}`, allow)
	default:
		fmt.Fprint(w, `{}`)
	}
}

func (o *opaStandIn) setDown(down bool) {
	o.mu.Lock()
	o.down = down
	o.mu.Unlock()
}

func (o *opaStandIn) setNoSecret(no bool) {
	o.mu.Lock()
	o.noSecret = no
	o.mu.Unlock()
}

func TestOPAFlow(t *testing.T) {
	o := &opaStandIn{}
	srv := httptest.NewServer(o)
	defer srv.Close()
	h := newHost(t, "")
	audit := filepath.Join(h.dir, "audit.jsonl")
	h.write("rules.conf", fmt.Sprintf("DEBUG:TRUE\nAUDIT_LOG:%s\nOPA_URL:%s\nOPA_AUTHZ:/v1/data/sshd/authz\nOPA_DISPLAY:display\n"+
		"OPA_CACHE:600\nSSHD OPA GROUP ALL\n", audit, srv.URL))
	h.proc(100, 10, 0)
	login := func(answer string) (int32, *fakePAM) {
		pam := &fakePAM{user: "alice", answers: []string{answer}}
		h.procs = map[int32]loginstate.Login{}
		h.proc(100, uint64(time.Now().UnixNano()), 0) // a new login each time
		return h.call(auth, 100, pam, "192.0.2.1", 0), pam
	}
	code, pam := login("suresh")
	if code != protocol.PAMSuccess || strings.Join(pam.said, "|") != "4 Welcome.|1 Secret: " {
		t.Fatalf("right secret: %d, said %q\n%s", code, pam.said, strings.Join(h.log.lines, "\n"))
	}
	if code, _ := login("wrong"); code != protocol.PAMAuthErr {
		t.Fatalf("wrong secret: %d", code)
	}
	if len(h.log.grep(`OPA's errors for "alice"`)) == 0 {
		t.Errorf("OPA's errors not logged:\n%s", strings.Join(h.log.lines, "\n"))
	}
	// the CLOSE forgot the OPEN: with OPA down, the fallback decides
	o.setDown(true)
	if code, _ := login("suresh"); code != protocol.PAMAuthErr {
		t.Fatalf("OPA down after a CLOSE: %d", code)
	}
	o.setDown(false)
	if code, _ := login("suresh"); code != protocol.PAMSuccess {
		t.Fatal("OPA back")
	}
	// the OPEN was given after OPA asked for the secret: with OPA down it
	// does not stand in for the secret nobody asks
	o.setDown(true)
	mark := len(h.log.lines)
	if code, pam := login("anything"); code != protocol.PAMAuthErr || len(pam.said) != 1 || pam.said[0] != "3 "+deniedMessage {
		t.Fatalf("OPA down, the cached OPEN given after OPA's prompt: %d, said %q\n%s", code, pam.said, strings.Join(h.log.lines, "\n"))
	}
	if got := strings.Join(h.log.lines[mark:], "\n"); !strings.Contains(got, "does not stand in: it was given after OPA's display cycle asked") ||
		!strings.Contains(got, "OPA_FALLBACK:CLOSE") {
		t.Errorf("the fallback line does not say why the cached OPEN did not stand in:\n%s", got)
	}
	// a policy that asks nothing: its cached OPEN stands in
	o.setDown(false)
	o.setNoSecret(true)
	if code, _ := login("unasked"); code != protocol.PAMSuccess {
		t.Fatal("OPA back, asking nothing")
	}
	o.setDown(true)
	if code, _ := login("anything"); code != protocol.PAMSuccess {
		t.Fatalf("OPA down, the cached OPEN: %d\n%s", code, strings.Join(h.log.lines, "\n"))
	}
	h.now = h.now.Add(11 * time.Minute)
	if code, _ := login("anything"); code != protocol.PAMAuthErr {
		t.Fatalf("OPA down, the cached OPEN past OPA_CACHE: %d", code)
	}
	data, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	events := string(data)
	for _, want := range []string{`"event":"opa_fallback","login":`, `"event":"opa_cache","login":`} {
		if !strings.Contains(events, want) {
			t.Errorf("audit trail lacks %s:\n%s", want, events)
		}
	}
	all := strings.Join(h.log.lines, "\n") + events
	if strings.Contains(all, "suresh") {
		t.Errorf("the secret reached the log or the audit trail:\n%s", all)
	}
	if !strings.Contains(all, `"secret":"********"`) {
		t.Errorf("DEBUG's trace lacks the masked input:\n%s", all)
	}
}
