package pyengine

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pamconst"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// hostProc is host.py running in python3, and the socket to call it on,
// with this test playing the helper.
type hostProc struct {
	cmd    *exec.Cmd
	socket string
}

func startHost(t *testing.T) *hostProc {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "host.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	f, _ := ln.File()
	consts := map[string]int{}
	for _, k := range pamconst.All() {
		consts[k.Name] = k.Value
	}
	cj, _ := json.Marshal(consts)
	self := strconv.Itoa(os.Getpid())
	start := strconv.FormatUint(startOf(t, os.Getpid()), 10)
	cmd := exec.Command(python, "-I", "-c", hostSource, self, start, "0", "0", path)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PAMAC_CONSTANTS=" + string(cj), "PAMAC_STRERROR=[\"Success\"]"}
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ln.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &hostProc{cmd: cmd, socket: path}
}

func startOf(t *testing.T, pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	n, _ := strconv.ParseUint(f[19], 10, 64)
	return n
}

// call runs one entry point; answer replies to each pamh request.
func (h *hostProc) call(t *testing.T, script, entry string, argv []string, answer func(req map[string]any) (int, any)) (map[string]any, []map[string]any) {
	t.Helper()
	conn, err := net.Dial("unix", h.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	enc := json.NewEncoder(conn)
	r := bufio.NewReader(conn)
	enc.Encode(map[string]any{"op": "call", "script": script, "entry": entry, "flags": 0, "argv": argv, "caller": []any{os.Getpid(), startOf(t, os.Getpid())}, "handle": uint64(0x5555deadbeef)})
	var reqs []map[string]any
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("host ended without a result: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		if m["op"] == "result" {
			return m, reqs
		}
		reqs = append(reqs, m)
		code, value := 0, any(nil)
		if answer != nil {
			code, value = answer(m)
		}
		enc.Encode(map[string]any{"code": code, "value": value})
	}
}

func writeScript(t *testing.T, src string) string {
	path := filepath.Join(t.TempDir(), "s.py")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHostResults: pam_python's result rules, with our fix for bools.
func TestHostResults(t *testing.T) {
	h := startHost(t)
	script := writeScript(t, `
def pam_sm_authenticate(pamh, flags, argv):
    return pamh.PAM_AUTH_ERR
def pam_sm_acct_mgmt(pamh, flags, argv):
    return True
def pam_sm_open_session(pamh, flags, argv):
    return None
def pam_sm_close_session(pamh, flags, argv):
    raise RuntimeError("no")
def pam_sm_setcred(pamh, flags, argv):
    return 40
pam_sm_chauthtok = 3
`)
	for _, tt := range []struct {
		entry string
		code  float64
		err   string
	}{
		{"pam_sm_authenticate", 7, ""},
		{"pam_sm_acct_mgmt", 3, "did not return an integer"},
		{"pam_sm_open_session", 3, "did not return an integer"},
		{"pam_sm_close_session", 3, "RuntimeError: no"},
		{"pam_sm_setcred", 3, "not a PAM code"},
		{"pam_sm_chauthtok", 3, "isn't a function"},
		{"pam_sm_missing", 2, "isn't defined"},
	} {
		res, _ := h.call(t, script, tt.entry, []string{script}, nil)
		msg, _ := res["error"].(string)
		if res["code"] != tt.code || !strings.Contains(msg, tt.err) || (tt.err == "") != (msg == "") {
			t.Errorf("%s: %v", tt.entry, res)
		}
	}
	// a top-level error is not kept: the next call runs the file again
	broken := writeScript(t, "raise ImportError('no module named ldap')\n")
	for i := 0; i < 2; i++ {
		res, _ := h.call(t, broken, "pam_sm_authenticate", nil, nil)
		if msg, _ := res["error"].(string); res["code"] != 3.0 || !strings.Contains(msg, "ImportError") {
			t.Errorf("call %d: %v", i, res)
		}
	}
}

// TestHostPamh: items, get_user, conversation (one message and a list),
// env, fail_delay, exceptions carrying pam_result, module state.
func TestHostPamh(t *testing.T) {
	h := startHost(t)
	script := writeScript(t, `
seen = []
def pam_sm_authenticate(pamh, flags, argv):
    seen.append(pamh.user)
    pamh.rhost = "192.0.2.1"
    one = pamh.conversation(pamh.Message(pamh.PAM_TEXT_INFO, "hi"))
    two = pamh.conversation((pamh.Message(1, "a"), pamh.Message(2, "b")))
    assert one.resp is None and len(two) == 2 and two[1].resp == "B", (one, two)
    pamh.env["K"] = "v"
    assert pamh.env["K"] == "v" and "K" in pamh.env and pamh.env.get("X") is None
    pamh.fail_delay(2000000)
    try:
        pamh.tty
    except pamh.exception as e:
        assert e.pam_result == pamh.PAM_BAD_ITEM, e.pam_result
    else:
        raise AssertionError("no exception")
    try:
        pamh.PAM_SUCCESS = 1
    except AttributeError:
        pass
    return len(seen)
`)
	answer := func(req map[string]any) (int, any) {
		switch req["op"] {
		case "get_item":
			switch req["item"] {
			case 2.0:
				return 0, "alice"
			case 3.0:
				return int(pamconst.BadItem), nil
			}
		case "conv":
			msgs := req["msgs"].([]any)
			out := make([]any, len(msgs))
			for i, m := range msgs {
				text := m.([]any)[1].(string)
				if m.([]any)[0].(float64) <= 2 {
					out[i] = []any{strings.ToUpper(text), 0}
				} else {
					out[i] = []any{nil, 0}
				}
			}
			return 0, out
		case "getenv":
			if req["name"] == "K" {
				return 0, "v"
			}
		}
		return 0, nil
	}
	for want := 1.0; want <= 2; want++ { // module state lives on
		res, reqs := h.call(t, script, "pam_sm_authenticate", []string{script}, answer)
		if res["code"] != want || res["error"] != nil {
			t.Fatalf("call %v: %v", want, res)
		}
		var ops []string
		for _, r := range reqs {
			ops = append(ops, r["op"].(string))
		}
		if got := strings.Join(ops, ","); !strings.HasPrefix(got, "get_item,set_item,conv,conv,putenv,getenv") || !strings.Contains(got, "fail_delay") {
			t.Errorf("requests %s", got)
		}
	}
}

// TestHostEndAll: pam_end reaches the module's first script line only;
// every script the handle loaded is ended, the last loaded first, as
// pam_python's per-script PAM data are freed. dir(pamh) lists the
// constants and items, as pam_python's does; pamh.pamh is the handle's
// address the module sent.
func TestHostEndAll(t *testing.T) {
	h := startHost(t)
	src := `
def pam_sm_authenticate(pamh, flags, argv):
    names = dir(pamh)
    if pamh.pamh != 0x5555deadbeef:
        return 6
    return 0 if "PAM_SUCCESS" in names and "_PAM_RETURN_VALUES" in names and "user" in names else 7
def pam_sm_end(pamh):
    pamh.tty = __file__
`
	first, second := writeScript(t, src), writeScript(t, src)
	for _, s := range []string{first, second} {
		if res, _ := h.call(t, s, "pam_sm_authenticate", []string{s}, nil); res["code"] != 0.0 {
			t.Fatalf("dir(pamh): %v", res)
		}
	}
	res, reqs := h.call(t, first, "pam_sm_end", nil, nil)
	if res["code"] != 0.0 || len(reqs) != 2 {
		t.Fatalf("%v %v", res, reqs)
	}
	for i, want := range []string{second, first} {
		if reqs[i]["op"] != "set_item" || reqs[i]["value"] != want {
			t.Errorf("request %d: %v, want tty set to %s", i, reqs[i], want)
		}
	}
}
