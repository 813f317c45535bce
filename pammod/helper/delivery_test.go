package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
)

func TestStartsDeliverer(t *testing.T) {
	def := call.OutboxDir(DefaultSpoolDir)
	for _, tt := range []struct {
		name    string
		systemd bool   // /run/systemd/system is there
		enabled string // where the unit's wants link is, "" for nowhere
		outbox  string
		want    bool
	}{
		{"systemd, unit enabled, default outbox", true, "etc/systemd/system/paths.target.wants", def, true},
		{"systemd, unit enabled at runtime", true, "run/systemd/system/paths.target.wants", def, true},
		{"systemd, unit not enabled", true, "", def, false},
		{"no systemd", false, "etc/systemd/system/paths.target.wants", def, false},
		{"another spooldir", true, "etc/systemd/system/paths.target.wants", "/srv/spool/outbox", false},
	} {
		root := t.TempDir()
		if tt.systemd {
			if err := os.MkdirAll(filepath.Join(root, "run/systemd/system"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if tt.enabled != "" {
			dir := filepath.Join(root, tt.enabled)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/lib/systemd/system/"+deliveryUnit, filepath.Join(dir, deliveryUnit)); err != nil {
				t.Fatal(err)
			}
		}
		if got := (systemdHost{root: root}).startsDeliverer(tt.outbox); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
