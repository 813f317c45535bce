package pamscript

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// fakePAM answers a script's requests from maps, for benchmarks.
type fakePAM struct{ data map[string]string }

func (f *fakePAM) GetItem(int) (string, bool, error) { return "alice", true, nil }

func (f *fakePAM) SetItem(int, string, bool) error { return nil }

func (f *fakePAM) GetUser(string, bool) (string, error) { return "alice", nil }

func (f *fakePAM) GetEnv(string) (string, bool, error) { return "", false, nil }

func (f *fakePAM) PutEnv(string) error { return nil }

func (f *fakePAM) EnvList() ([]string, error) { return nil, nil }

func (f *fakePAM) FailDelay(int) error { return nil }

func (f *fakePAM) GetData(k string) (string, bool, error) { v, ok := f.data[k]; return v, ok, nil }

func (f *fakePAM) SetData(k, v string, set bool) error { f.data[k] = v; return nil }

func (f *fakePAM) Converse([]ConvMessage) ([]ConvResponse, error) { return nil, nil }

// BenchmarkScriptCall: one pam_sm_acct_mgmt of pam_permit.py, loaded and
// run as the helper does per call; BenchmarkNativeCall is the same answer
// without Starlark.
func BenchmarkScriptCall(b *testing.B) {
	path, _ := filepath.Abs("../../../examples/scripts/pam_permit.py")
	if _, err := os.Stat(path); err != nil {
		b.Skip(err)
	}
	p := &fakePAM{data: map[string]string{}}
	for b.Loop() {
		code, err := Run(Call{Path: path, Argv: []string{path}, Entry: "pam_sm_acct_mgmt", PAM: p, Host: &starhost.Host{}})
		if err != nil || code != 0 {
			b.Fatal(code, err)
		}
	}
}

func BenchmarkNativeCall(b *testing.B) {
	p := &fakePAM{data: map[string]string{}}
	for b.Loop() {
		if _, set, _ := p.GetItem(2); !set {
			b.Fatal("no user")
		}
	}
}
