package loginstate

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestServes(t *testing.T) {
	init := Process{PID: 1, Start: 1}
	parent := Process{PID: 100, Start: 5000}
	owner := Process{PID: 200, Start: 6000}
	sibling := Process{PID: 201, Start: 6100}
	child := Process{PID: 300, Start: 7000}
	login := func(self, parent Process) Login {
		return Login{Boot: "b1", Self: self, Parent: parent, Handle: "0x55d0c0"}
	}
	w := login(owner, parent)
	tests := []struct {
		name   string
		caller Login
		want   bool
	}{
		{"same process", login(owner, parent), true},
		{"same process, parent gone since", login(owner, Process{}), true},
		{"child of the owner (xrdp's session fork)", login(child, owner), true},
		{"parent of the owner (sshd's monitor)", login(parent, init), true},
		{"sibling: same parent, same handle", login(sibling, parent), false},
		{"grandchild", login(Process{PID: 400, Start: 8000}, child), false},
		{"owner's pid reused by a new process", login(Process{PID: 200, Start: 9999}, parent), false},
		{"parent's pid reused", login(Process{PID: 100, Start: 1}, init), false},
		{"child of a process that reused the owner's pid", login(child, Process{PID: 200, Start: 9999}), false},
		{"another handle", Login{Boot: "b1", Self: owner, Parent: parent, Handle: "0x1"}, false},
		{"another boot", Login{Boot: "b2", Self: owner, Parent: parent, Handle: "0x55d0c0"}, false},
		{"unknown caller", Login{Boot: "b1", Handle: "0x55d0c0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Serves(tt.caller); got != tt.want {
				t.Errorf("Serves = %v, want %v", got, tt.want)
			}
		})
	}
	if (Login{Boot: "b1", Handle: "0x55d0c0"}).Serves(login(owner, parent)) {
		t.Error("a record with no owner serves a caller")
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		line      string
		start     uint64
		ppid      int32
		malformed bool
	}{
		{"42 (sshd) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1000 100", 123456, 7, false},
		// a command name with spaces and ")" cannot shift the fields
		{"42 (a) b) S 9) S 8 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 777 1000 100", 777, 8, false},
		{"42 (sshd S 7", 0, 0, true},
		{"42 (sshd) S 7 42", 0, 0, true},
		{"42 (sshd) S x 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1000 100", 0, 0, true},
		{"42 (sshd) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 0 1000 100", 0, 0, true},
	}
	for _, tt := range tests {
		p, ppid, err := parseStat(42, []byte(tt.line))
		if tt.malformed {
			if err == nil {
				t.Errorf("%q: no error", tt.line)
			}
			continue
		}
		if err != nil || p.Start != tt.start || p.PID != 42 || ppid != tt.ppid {
			t.Errorf("%q: %+v ppid %d, %v", tt.line, p, ppid, err)
		}
	}
}

// fakeProc writes a procfs with the given processes (pid -> ppid, start).
func fakeProc(t *testing.T, procs map[int32][2]uint64) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "sys/kernel/random"), 0o755))
	must(os.WriteFile(filepath.Join(root, "sys/kernel/random/boot_id"), []byte("boot-1\n"), 0o644))
	for pid, p := range procs {
		dir := filepath.Join(root, itoa(pid))
		must(os.Mkdir(dir, 0o755))
		line := itoa(pid) + " (x) S " + itoa(int32(p[0])) + " 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " + itoa(int32(p[1])) + " 0 0"
		must(os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644))
	}
	return root
}

func itoa(n int32) string { return fmtInt(int64(n)) }

func TestIdentify(t *testing.T) {
	proc := fakeProc(t, map[int32][2]uint64{1: {0, 1}, 100: {1, 500}, 200: {100, 600}, 300: {1, 700}, 400: {999, 800}})
	id := Identifier{Proc: proc}
	l, err := id.Identify(200, "0xabc")
	if err != nil {
		t.Fatal(err)
	}
	want := Login{Boot: "boot-1", Self: Process{200, 600}, Parent: Process{100, 500}, Handle: "0xabc"}
	if l != want {
		t.Fatalf("Identify = %+v, want %+v", l, want)
	}
	if l, err := id.Identify(300, "0xabc"); err != nil || l.Parent.Known() {
		t.Errorf("a child of init: %+v, %v (init links to nothing)", l, err)
	}
	if l, err := id.Identify(400, "0xabc"); err != nil || l.Parent.Known() {
		t.Errorf("a parent gone meanwhile: %+v, %v", l, err)
	}
	for _, bad := range []struct {
		pid    int32
		handle string
	}{{555, "0xabc"}, {0, "0xabc"}, {200, ""}, {200, "0x../x"}, {200, "0x0123456789abcdef0123456789abcdef0"}} {
		if _, err := id.Identify(bad.pid, bad.handle); err == nil {
			t.Errorf("Identify(%d, %q): no error", bad.pid, bad.handle)
		}
	}
}

func TestIdentifySelf(t *testing.T) {
	l, err := Identifier{}.Identify(int32(os.Getpid()), "0x1")
	if err != nil {
		t.Fatal(err)
	}
	if !l.Self.Known() || l.Boot == "" {
		t.Fatalf("Identify(self) = %+v", l)
	}
	again, _ := Identifier{}.Identify(int32(os.Getpid()), "0x1")
	if again != l {
		t.Fatalf("one process, two identities: %+v, %+v", l, again)
	}
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

// TestAlive: a process is alive while it runs as the same process: not
// gone, not another at its pid, not a zombie nobody reaped yet (a Python
// killed after its helper exited waits for init).
func TestAlive(t *testing.T) {
	proc := fakeProc(t, map[int32][2]uint64{100: {1, 500}, 200: {1, 600}})
	id := Identifier{Proc: proc}
	zombie := filepath.Join(proc, "200", "stat")
	data, err := os.ReadFile(zombie)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zombie, []byte(strings.Replace(string(data), ") S ", ") Z ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		p    Process
		want bool
	}{{Process{100, 500}, true}, {Process{100, 501}, false}, {Process{300, 500}, false}, {Process{200, 600}, false}} {
		if got := id.Alive(tt.p); got != tt.want {
			t.Errorf("Alive(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if !(Identifier{}).Alive(Process{PID: int32(os.Getpid()), Start: mustStart(t)}) {
		t.Error("this test's own process is not alive")
	}
}

func mustStart(t *testing.T) uint64 {
	p, _, err := Identifier{}.Stat(int32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	return p.Start
}
