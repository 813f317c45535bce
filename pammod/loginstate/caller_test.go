package loginstate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpener: the one way rule mode and script mode open the caller's
// login. A call that claims another process than the kernel's is refused
// before anything is read or made; the login is named by the kernel's pid.
func TestOpener(t *testing.T) {
	proc := fakeProc(t, map[int32][2]uint64{100: {1, 500}, 200: {100, 600}})
	ids := Identifier{Proc: proc}
	tests := []struct {
		name              string
		kernel, claimed   int32
		handle            string
		identify          func(int32, string) (Login, error)
		want              Login
		wantErr           string
		wantIdentifyCalls int
	}{
		{name: "the kernel's pid", kernel: 200, claimed: 200, handle: "0xabc", identify: ids.Identify,
			want: Login{Boot: "boot-1", Self: Process{200, 600}, Parent: Process{100, 500}, Handle: "0xabc"}, wantIdentifyCalls: 1},
		{name: "the call speaks for another process", kernel: 200, claimed: 100, handle: "0xabc", identify: ids.Identify,
			wantErr: "the module says it runs in process 100, the kernel says 200"},
		{name: "no usable handle", kernel: 200, claimed: 200, handle: "", identify: ids.Identify,
			wantErr: "who is logging in: the module sent no usable PAM handle address", wantIdentifyCalls: 1},
		{name: "the process is gone", kernel: 300, claimed: 300, handle: "0xabc", identify: ids.Identify,
			wantErr: "who is logging in: process 300", wantIdentifyCalls: 1},
		{name: "identify fails", kernel: 200, claimed: 200, handle: "0xabc",
			identify: func(int32, string) (Login, error) { return Login{}, errors.New("no procfs") },
			wantErr:  "who is logging in: no procfs", wantIdentifyCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			calls := 0
			o := Opener{Dir: dir, Identify: func(pid int32, handle string) (Login, error) {
				calls++
				if pid != tt.kernel {
					t.Errorf("identified pid %d, not the kernel's %d", pid, tt.kernel)
				}
				return tt.identify(pid, handle)
			}}
			store, login, err := o.Open(tt.kernel, tt.claimed, tt.handle)
			if calls != tt.wantIdentifyCalls {
				t.Errorf("Identify called %d times, want %d", calls, tt.wantIdentifyCalls)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Open = %v, want an error starting %q", err, tt.wantErr)
				}
				if store != nil {
					t.Error("a store with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if login != tt.want || store.Dir() != dir {
				t.Errorf("Open = %s, %+v; want %s, %+v", store.Dir(), login, dir, tt.want)
			}
		})
	}
}

// TestOpenerChecksPIDFirst: a call that claims another process touches
// nothing, not even the run directory.
func TestOpenerChecksPIDFirst(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, _, err := (Opener{Dir: dir}).Open(int32(os.Getpid()), 1, "0x1"); err == nil {
		t.Fatal("a call claiming pid 1 was taken")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the run directory was made for a refused call: %v", err)
	}
}

// TestOpenerRefusesAnUnsafeRunDir: the store's own checks stand.
func TestOpenerRefusesAnUnsafeRunDir(t *testing.T) {
	loose := filepath.Join(t.TempDir(), "loose")
	os.Mkdir(loose, 0o700)
	os.Chmod(loose, 0o777)
	if _, _, err := (Opener{Dir: loose}).Open(int32(os.Getpid()), int32(os.Getpid()), "0x1"); err == nil {
		t.Fatal("a world-writable run directory was taken")
	}
}

// TestOpenerDefaultIdentifier: with no Identify, a fresh Identifier names
// the caller from the real procfs.
func TestOpenerDefaultIdentifier(t *testing.T) {
	pid := int32(os.Getpid())
	_, login, err := (Opener{Dir: filepath.Join(t.TempDir(), "run")}).Open(pid, pid, "0x1")
	if err != nil {
		t.Fatal(err)
	}
	if login.Self.PID != pid || !login.Self.Known() || login.Boot == "" {
		t.Errorf("Open = %+v", login)
	}
}
