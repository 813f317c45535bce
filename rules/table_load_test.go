package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// confDir writes a main file and drop-ins in a new directory.
func confDir(t *testing.T, main string, dropIns map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "pam-accesscontrol.conf")
	must(t, os.WriteFile(path, []byte(main), 0o644))
	if dropIns != nil {
		must(t, os.Mkdir(filepath.Join(dir, rules.DropInDirName), 0o755))
	}
	for name, text := range dropIns {
		must(t, os.WriteFile(filepath.Join(dir, rules.DropInDirName, name), []byte(text), 0o644))
	}
	return path
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func asRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ownership checks need files owned by root")
	}
}

func TestLoadDropIns(t *testing.T) {
	asRoot(t)
	path := confDir(t, "DEFAULT:OPEN\nSSHD OPEN USER a\n", map[string]string{
		"20-b.conf":   "SSHD OPEN USER c\nDEFAULT:CLOSE\n",
		"10-a.conf":   "SSHD OPEN USER b\n",
		"30-c.txt":    "SSHD OPEN USER not-read\n",
		".99-x.conf":  "SSHD OPEN USER hidden\n",
		"40-bad.conf": "SSHD OPEN USR x\n",
	})
	cfg, err := rules.Load(rules.LoadOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, r := range cfg.Rules {
		users = append(users, r.Names[0]+"@"+filepath.Base(r.Pos.File))
	}
	if got := strings.Join(users, " "); got != "a@pam-accesscontrol.conf b@10-a.conf c@20-b.conf" {
		t.Errorf("rules in order: %s", got)
	}
	if cfg.Settings.Default != rules.Close || filepath.Base(cfg.Settings.DefaultPos.File) != "20-b.conf" {
		t.Errorf("the last DEFAULT across files wins: %v at %v", cfg.Settings.Default, cfg.Settings.DefaultPos)
	}
	if len(cfg.Problems) != 1 || filepath.Base(cfg.Problems[0].Pos.File) != "40-bad.conf" || cfg.Problems[0].Pos.Line != 1 {
		t.Errorf("problems %v", cfg.Problems)
	}
	if len(cfg.Files) != 4 {
		t.Errorf("files %v", cfg.Files)
	}

	cfg, err = rules.Load(rules.LoadOptions{Path: path, NoDropIns: true})
	if err != nil || len(cfg.Rules) != 1 || cfg.Settings.Default != rules.Open {
		t.Errorf("NoDropIns: %d rules, %v, %v", len(cfg.Rules), cfg.Settings.Default, err)
	}
}

func TestLoadMissing(t *testing.T) {
	cfg, err := rules.Load(rules.LoadOptions{Path: filepath.Join(t.TempDir(), "nope.conf")})
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
	if p, ok := cfg.Fatal(); !ok || p.Severity != rules.Fatal {
		t.Errorf("fatal problem %v %v", p, ok)
	}
}

func TestLoadPluginBeside(t *testing.T) {
	asRoot(t)
	path := confDir(t, "SSHD hours USER a\n", nil)
	cfg, _ := rules.Load(rules.LoadOptions{Path: path})
	if len(cfg.Rules) != 0 || len(cfg.Problems) != 1 || !strings.Contains(cfg.Problems[0].Message, filepath.Join(filepath.Dir(path), "plugins", "hours.star")) {
		t.Fatalf("rules %v, problems %v", cfg.Rules, cfg.Problems)
	}
	must(t, os.Mkdir(filepath.Join(filepath.Dir(path), "plugins"), 0o755))
	plugin := filepath.Join(filepath.Dir(path), "plugins", "hours.star")
	must(t, os.WriteFile(plugin, []byte("def decide(ctx):\n    return None\n"), 0o644))
	cfg, err := rules.Load(rules.LoadOptions{Path: path})
	if err != nil || len(cfg.Rules) != 1 || cfg.Rules[0].Plugin != "hours" {
		t.Fatalf("rules %v, problems %v, %v", cfg.Rules, cfg.Problems, err)
	}
	must(t, os.Chmod(plugin, 0o666))
	if _, err := rules.Load(rules.LoadOptions{Path: path}); err == nil || !strings.Contains(err.Error(), "plugin not trusted") {
		t.Errorf("a world-writable plugin: err = %v", err)
	}
}

// TestTrust: a file someone other than root could change refuses the whole
// config, with the file and the fix named.
func TestTrust(t *testing.T) {
	asRoot(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string // "" when trusted
	}{
		{"root-owned 0644", func(*testing.T, string) {}, ""},
		{"group-writable", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o664)) }, "writable by group or others (mode 0664); fix: chmod go-w"},
		{"world-writable", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o646)) }, "writable by group or others"},
		{"owned by a user", func(t *testing.T, p string) { must(t, os.Chown(p, 1000, 0)) }, "owned by uid 1000, not root; fix: chown root"},
		{"world-writable directory", func(t *testing.T, p string) { must(t, os.Chmod(filepath.Dir(p), 0o777)) }, "writable by group or others (mode 0777)"},
		{"sticky world-writable directory", func(t *testing.T, p string) { must(t, os.Chmod(filepath.Dir(p), 0o777|os.ModeSticky)) }, ""},
		{"directory owned by a user", func(t *testing.T, p string) { must(t, os.Chown(filepath.Dir(p), 1000, 0)) }, "owned by uid 1000"},
		{"untrusted drop-in", func(t *testing.T, p string) {
			dir := filepath.Join(filepath.Dir(p), rules.DropInDirName)
			must(t, os.Mkdir(dir, 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "x.conf"), []byte("DEFAULT:OPEN\n"), 0o666))
			must(t, os.Chmod(filepath.Join(dir, "x.conf"), 0o666))
		}, "x.conf is writable by group or others"},
		{"symlink into an untrusted directory", func(t *testing.T, p string) {
			other := t.TempDir()
			must(t, os.Chmod(other, 0o777))
			target := filepath.Join(other, "real.conf")
			must(t, os.WriteFile(target, []byte("DEFAULT:OPEN\n"), 0o644))
			must(t, os.Remove(p))
			must(t, os.Symlink(target, p))
		}, "writable by group or others (mode 0777)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := confDir(t, "DEFAULT:OPEN\n", nil)
			tt.setup(t, path)
			_, err := rules.Load(rules.LoadOptions{Path: path})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			cfg, _ := rules.Load(rules.LoadOptions{Path: path, InsecureSkipOwnerCheck: true})
			if _, fatal := cfg.Fatal(); fatal {
				t.Errorf("InsecureSkipOwnerCheck still refuses: %v", cfg.Problems)
			}
		})
	}
}

// TestTrustPlanted plays a user where an admin keeps a config in a
// shared sticky directory (allowed: others cannot replace root's files
// there), before root's file is there or after it is removed: what they
// put under its name is refused, at once. A FIFO hung the login (the file
// was opened, blocking, before anything was checked), and a link to a
// root file of their choosing, such as another config that opens
// everything, was followed.
func TestTrustPlanted(t *testing.T) {
	asRoot(t)
	for _, tt := range []struct {
		name  string
		plant func(t *testing.T, path string)
		want  string
	}{
		{"a FIFO", func(t *testing.T, path string) {
			must(t, syscall.Mkfifo(path, 0o644))
			must(t, os.Chown(path, 65534, 65534))
		}, "is not a regular file (a FIFO)"},
		{"a link to root's file that opens everything", func(t *testing.T, path string) {
			open := confDir(t, "DEFAULT:OPEN\n", nil)
			must(t, os.Symlink(open, path))
			must(t, os.Lchown(path, 65534, 65534))
		}, "is a symbolic link in "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			shared := filepath.Join(t.TempDir(), "shared")
			must(t, os.Mkdir(shared, 0o755))
			must(t, os.Chmod(shared, 0o777|os.ModeSticky))
			path := filepath.Join(shared, "pam-accesscontrol.conf")
			tt.plant(t, path)
			done := make(chan error, 1)
			go func() {
				_, err := rules.Load(rules.LoadOptions{Path: path})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
			case <-time.After(5 * time.Second):
				if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					w.Close() // let the blocked open go
				}
				t.Fatal("Load hangs")
			}
		})
	}
}

// TestFingerprint: any change to a file a decision was made under (main
// file, a drop-in added, changed or removed, a plugin) changes the config's
// fingerprint; reading the same files again does not.
func TestFingerprint(t *testing.T) {
	path := confDir(t, "SSHD GUARD USER alice\nDEFAULT:CLOSE\n", map[string]string{"10-a.conf": "SSHD OPEN USER bob\n"})
	dir := filepath.Dir(path)
	must(t, os.Mkdir(filepath.Join(dir, rules.PluginDirName), 0o755))
	plugin := filepath.Join(dir, rules.PluginDirName, "guard.star")
	must(t, os.WriteFile(plugin, []byte("def decide(ctx):\n    return None\n"), 0o644))
	load := func() string {
		t.Helper()
		cfg, err := rules.Load(rules.LoadOptions{Path: path, InsecureSkipOwnerCheck: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Fingerprint) != 64 {
			t.Fatalf("fingerprint %q", cfg.Fingerprint)
		}
		return cfg.Fingerprint
	}
	seen := map[string]string{}
	step := func(name string, change func()) {
		t.Helper()
		change()
		fp := load()
		if prev, ok := seen[fp]; ok {
			t.Fatalf("%s: the same fingerprint as %s", name, prev)
		}
		seen[fp] = name
	}
	step("start", func() {})
	if load() == "" || seen[load()] != "start" {
		t.Fatal("reading the same files again changed the fingerprint")
	}
	step("main file changed", func() { must(t, os.WriteFile(path, []byte("SSHD GUARD USER alice\nDEFAULT:OPEN\n"), 0o644)) })
	step("drop-in changed", func() {
		must(t, os.WriteFile(filepath.Join(dir, rules.DropInDirName, "10-a.conf"), []byte("SSHD OPEN USER bobby\n"), 0o644))
	})
	step("drop-in added", func() {
		must(t, os.WriteFile(filepath.Join(dir, rules.DropInDirName, "20-b.conf"), []byte("# nothing\n"), 0o644))
	})
	step("drop-in removed", func() { must(t, os.Remove(filepath.Join(dir, rules.DropInDirName, "10-a.conf"))) })
	step("plugin changed", func() { must(t, os.WriteFile(plugin, []byte("def decide(ctx):\n    return 'OPEN'\n"), 0o644)) })
	// the content moved from one file to another is another config too
	step("text moved between files", func() {
		must(t, os.WriteFile(path, []byte("SSHD GUARD USER alice\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, rules.DropInDirName, "20-b.conf"), []byte("DEFAULT:OPEN\n# nothing\n"), 0o644))
	})
	if cfg := rules.Parse("x.conf", []byte("SSHD OPEN USER a\n"), rules.ParseOptions{}); cfg.Fingerprint != "" {
		t.Error("a config not read by Load has a fingerprint")
	}
}
