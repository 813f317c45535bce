package test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// bundleServer is a central bundle server and decision log collector on
// 127.0.0.1: it serves bundles/fleet.tar.gz and takes OPA's POST /logs.
type bundleServer struct {
	URL    string
	mu     sync.Mutex
	bundle []byte
	etag   string
	logs   []map[string]any
}

func startBundleServer(t *testing.T) *bundleServer {
	t.Helper()
	b := &bundleServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/bundles/fleet.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if r.Header.Get("If-None-Match") == b.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", b.etag)
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(b.bundle)
	})
	mux.HandleFunc("/logs", func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = gz
		}
		var events []map[string]any
		if err := json.NewDecoder(body).Decode(&events); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b.mu.Lock()
		b.logs = append(b.logs, events...)
		b.mu.Unlock()
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	b.URL = "http://" + l.Addr().String()
	return b
}

// publish puts a new bundle revision on the server: the fleet policy and
// the users it allows.
func (b *bundleServer) publish(t *testing.T, revision string, allowed ...string) {
	t.Helper()
	policy, err := os.ReadFile("testdata/opa-fleet/fleet.rego")
	must(t, err)
	data, _ := json.Marshal(map[string]any{"allowed": allowed})
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		body []byte
	}{
		{"/.manifest", []byte(fmt.Sprintf(`{"revision":%q,"roots":["fleet"]}`, revision))},
		{"/fleet/authz/policy.rego", policy},
		{"/fleet/data.json", data},
	} {
		must(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(f.body)
		must(t, err)
	}
	must(t, tw.Close())
	must(t, gz.Close())
	b.mu.Lock()
	b.bundle, b.etag = buf.Bytes(), `"`+revision+`"`
	b.mu.Unlock()
}

// decisions returns the decision log entries for user's logins so far.
func (b *bundleServer) decisions(user string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, e := range b.logs {
		in, _ := e["input"].(map[string]any)
		si, _ := in["sysinfo"].(map[string]any)
		if si["pam_username"] == user {
			out = append(out, e)
		}
	}
	return out
}

// opaConfig writes the config of a host's OPA that ships its decision
// logs to the central server at url and, with bundle, pulls its policy
// from there; it returns the file's path.
func opaConfig(t *testing.T, url string, bundle bool) string {
	t.Helper()
	config := "services:\n  central:\n    url: " + url + "\n"
	if bundle {
		config += `bundles:
  fleet:
    service: central
    resource: bundles/fleet.tar.gz
    polling:
      min_delay_seconds: 1
      max_delay_seconds: 2
`
	}
	config += `decision_logs:
  service: central
  reporting:
    min_delay_seconds: 1
    max_delay_seconds: 2
`
	path := filepath.Join(t.TempDir(), "opa.yaml")
	must(t, os.WriteFile(path, []byte(config), 0o644))
	return path
}

// TestOPAFleetBundle: a local OPA per host pulls its policy as a bundle
// from a central bundle server and ships its decision logs to a central
// collector. Publishing a new bundle changes who gets in on the next
// poll, with nothing changed on the host; each decision reaches the
// collector with the bundle revision that made it.
func TestOPAFleetBundle(t *testing.T) {
	central := startBundleServer(t)
	central.publish(t, "r1", "ops")
	config := opaConfig(t, central.URL, true)
	o := startOPA(t, "?bundles", "--config-file", config)
	etc := newOPAEtc(t, "frontend")
	s := newPAMStack(t, opaRules(o.URL, "OPA_AUTHZ:fleet/authz"))
	login := func(user string) int {
		_, code, _ := etc.pamtester(t, s, "", []string{"rhost=192.0.2.20"}, user, "authenticate")
		return code
	}
	if login("ops") != 0 || login("dev") != 1 {
		t.Fatal("bundle r1 lets in ops, not dev")
	}
	central.publish(t, "r2", "dev")
	deadline := time.Now().Add(30 * time.Second)
	for login("dev") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("bundle r2 did not take within 30 s\n%s", o.out.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	if login("ops") != 1 {
		t.Error("bundle r2 still lets in ops")
	}
	// the decision logs reach the collector, with the revision and the
	// answer that decided
	want := func(user, revision string, allow bool) bool {
		for _, e := range central.decisions(user) {
			bundles, _ := e["bundles"].(map[string]any)
			fleet, _ := bundles["fleet"].(map[string]any)
			result, _ := e["result"].(map[string]any)
			if fleet["revision"] == revision && result["allow"] == allow && e["path"] == "fleet/authz" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(30 * time.Second); !(want("ops", "r1", true) && want("dev", "r1", false) &&
		want("dev", "r2", true) && want("ops", "r2", false)); {
		if time.Now().After(deadline) {
			data, _ := json.MarshalIndent(central.logs, "", " ")
			t.Fatalf("decision logs incomplete after 30 s:\n%s", data)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if e := central.decisions("ops")[0]; !strings.Contains(fmt.Sprint(e["input"]), "pam_accesscontrol") {
		t.Errorf("our facts are not in the logged input: %v", e["input"])
	}
}

// TestOPADecisionLogsMasked: OPA's decision logs carry the input as
// sent, and so the answer to an echo-off prompt, to a central collector.
// The system.log policy the README gives keeps it out: the logged input
// has the echo-on answer and not the secret, and the secret appears
// nowhere in what the collector received.
func TestOPADecisionLogsMasked(t *testing.T) {
	central := startBundleServer(t)
	config := opaConfig(t, central.URL, false)
	o := startOPA(t, "", "--config-file", config, "testdata/opa/v1", "testdata/opa-mask")
	etc := newOPAEtc(t, "frontend")
	s := newPAMStack(t, opaRules(o.URL, pamAuthzSettings...))
	if _, code, _ := etc.pamtester(t, s, "ramesh\nsuresh\n", []string{"rhost=192.0.2.10"}, "ops", "authenticate"); code != 0 {
		t.Fatal("ops with both answers was refused")
	}
	var authz map[string]any
	for deadline := time.Now().Add(30 * time.Second); authz == nil; time.Sleep(300 * time.Millisecond) {
		for _, e := range central.decisions("ops") {
			if e["path"] == "sshd/authz" {
				authz = e
			}
		}
		if authz == nil && time.Now().After(deadline) {
			t.Fatalf("no decision log of the authz cycle after 30 s\n%s", o.out.String())
		}
	}
	in, _ := authz["input"].(map[string]any)
	answers, _ := in["display_responses"].(map[string]any)
	if answers["last_name"] != "ramesh" {
		t.Errorf("the logged input lacks the echo-on answer: %v", in)
	}
	if _, ok := answers["secret"]; ok {
		t.Errorf("the echo-off answer reached the decision log: %v", answers)
	}
	central.mu.Lock()
	all, _ := json.Marshal(central.logs)
	central.mu.Unlock()
	if strings.Contains(string(all), "suresh") {
		t.Errorf("the secret reached the collector:\n%s", all)
	}
}
