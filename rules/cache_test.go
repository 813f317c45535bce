package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// users lists the USER rules' first names, in order.
func users(cfg *rules.Config) string {
	var out []string
	for _, r := range cfg.Rules {
		out = append(out, r.Names[0])
	}
	return strings.Join(out, " ")
}

// TestCache: a config is parsed once while nothing it depends on changes,
// and every change is seen by the very next call: a main file rewritten
// to the same size and mtime, a drop-in added or removed, a plugin
// changed, a symbolic link re-pointed, a mode made unsafe.
func TestCache(t *testing.T) {
	asRoot(t)
	main := confDir(t, "SSHD OPEN USER a\n", map[string]string{"10-b.conf": "SSHD OPEN USER b\n"})
	dir := filepath.Dir(main)
	plugins := filepath.Join(dir, rules.PluginDirName)
	must(t, os.Mkdir(plugins, 0o755))
	must(t, os.WriteFile(filepath.Join(plugins, "p.star"), []byte("def decide(ctx):\n    return None\n"), 0o644))
	var c rules.Cache
	opts := rules.LoadOptions{Path: main}
	load := func() *rules.Config {
		t.Helper()
		cfg, _ := c.Load(opts)
		return cfg
	}
	first := load()
	if users(first) != "a b" || load() != first {
		t.Fatalf("unchanged: reloaded, or %q", users(first))
	}

	steps := []struct {
		name   string
		change func()
		want   string // the users; "refused" for a fatal config
	}{
		{"main rewritten, same size and mtime", func() {
			fi, _ := os.Stat(main)
			must(t, os.WriteFile(main, []byte("SSHD OPEN USER x\n"), 0o644))
			must(t, os.Chtimes(main, fi.ModTime(), fi.ModTime()))
		}, "x b"},
		{"drop-in added", func() {
			must(t, os.WriteFile(filepath.Join(dir, rules.DropInDirName, "20-c.conf"), []byte("SSHD OPEN USER c\n"), 0o644))
		}, "x b c"},
		{"drop-in removed", func() { must(t, os.Remove(filepath.Join(dir, rules.DropInDirName, "10-b.conf"))) }, "x c"},
		{"a rule names the plugin", func() {
			must(t, os.WriteFile(main, []byte("SSHD OPEN USER x\nSSHD p USER y\n"), 0o644))
		}, "x y c"},
		{"main file a link to another", func() {
			other := filepath.Join(dir, "other.conf")
			must(t, os.WriteFile(other, []byte("SSHD OPEN USER l\n"), 0o644))
			must(t, os.Rename(main, filepath.Join(dir, "old.conf")))
			must(t, os.Symlink(other, main))
		}, "l c"},
		{"the link re-pointed", func() {
			must(t, os.Remove(main))
			must(t, os.Symlink(filepath.Join(dir, "old.conf"), main))
		}, "x y c"},
		{"a drop-in made writable by others", func() { must(t, os.Chmod(filepath.Join(dir, rules.DropInDirName, "20-c.conf"), 0o666)) }, "refused"},
		{"made safe again", func() { must(t, os.Chmod(filepath.Join(dir, rules.DropInDirName, "20-c.conf"), 0o644)) }, "x y c"},
		{"the config's directory made writable by others", func() { must(t, os.Chmod(dir, 0o777)) }, "refused"},
		{"and safe again", func() { must(t, os.Chmod(dir, 0o755)) }, "x y c"},
		// a link is followed only where only root could have put it:
		// the directory of a link in the middle of a chain counts too
		{"the main file a link to a link in another directory", func() {
			hop := filepath.Join(dir, "hop")
			must(t, os.Mkdir(hop, 0o755))
			must(t, os.Symlink(filepath.Join(dir, "old.conf"), filepath.Join(hop, "link")))
			must(t, os.Remove(main))
			must(t, os.Symlink(filepath.Join(hop, "link"), main))
		}, "x y c"},
		{"that directory made writable by others", func() { must(t, os.Chmod(filepath.Join(dir, "hop"), 0o777)) }, "refused"},
		{"and safe again", func() { must(t, os.Chmod(filepath.Join(dir, "hop"), 0o755)) }, "x y c"},
	}
	prints := map[string]bool{first.Fingerprint: true}
	for _, st := range steps {
		before := load()
		st.change()
		cfg, err := c.Load(opts)
		got := users(cfg)
		if err != nil {
			got = "refused"
		}
		if got != st.want || cfg == before {
			t.Errorf("%s: users %q (reloaded %v), want %q", st.name, got, cfg != before, st.want)
		}
		if again, _ := c.Load(opts); again != cfg {
			t.Errorf("%s: loaded again with nothing changed", st.name)
		}
		prints[cfg.Fingerprint] = true
	}

	// the plugin's content is part of the config: a decision kept under
	// the old one must not serve under the new
	before := load()
	time.Sleep(10 * time.Millisecond)
	must(t, os.WriteFile(filepath.Join(plugins, "p.star"), []byte("def decide(ctx):\n    return 'OPEN'\n"), 0o644))
	if after := load(); after == before || after.Fingerprint == before.Fingerprint {
		t.Error("a changed plugin did not change the config's fingerprint")
	}
}

// TestCacheConcurrent: many goroutines of the daemon load at once while
// the file changes (go test -race).
func TestCacheConcurrent(t *testing.T) {
	asRoot(t)
	main := confDir(t, "SSHD OPEN USER a\n", nil)
	var c rules.Cache
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if cfg, err := c.Load(rules.LoadOptions{Path: main}); err != nil || len(cfg.Rules) != 1 {
					t.Errorf("load: %v", err)
					return
				}
			}
		}()
	}
	for j := 0; j < 20; j++ { // as editors and config management write: a new file renamed in place
		must(t, os.WriteFile(main+".new", []byte("SSHD OPEN USER b\n"), 0o644))
		must(t, os.Rename(main+".new", main))
	}
	wg.Wait()
	if cfg, _ := c.Load(rules.LoadOptions{Path: main}); users(cfg) != "b" {
		t.Errorf("after the writes: %q", users(cfg))
	}
}
