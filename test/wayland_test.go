package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// weston is a Wayland compositor for the tests: Debian's weston with its
// X11 backend on a virtual X display (the headless backend has no seat,
// so nothing could click), the kiosk shell (each window fills the
// output), and its screenshooter.
type weston struct {
	display    string // the X display weston's output window is on
	runtimeDir string // XDG_RUNTIME_DIR of the Wayland socket
	socket     string // WAYLAND_DISPLAY
}

const westonWidth, westonHeight = 1024, 768

func startWeston(t *testing.T) *weston {
	t.Helper()
	for _, tool := range []string{"weston", "weston-screenshooter", "convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool+" (Debian packages weston, imagemagick)")
		}
	}
	w := &weston{display: startXvfb(t), runtimeDir: t.TempDir(), socket: "wayland-pamac"}
	must(t, os.Chmod(w.runtimeDir, 0o700))
	cmd := exec.Command("weston", "--backend=x11-backend.so", "--socket="+w.socket, "--shell=kiosk-shell.so",
		"--width=1024", "--height=768", "--idle-time=0", "--debug")
	cmd.Env = append(withoutDisplays(os.Environ()), "DISPLAY="+w.display, "XDG_RUNTIME_DIR="+w.runtimeDir)
	logf, err := os.Create(filepath.Join(w.runtimeDir, "weston.log"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(w.runtimeDir, w.socket)); err == nil {
			return w
		}
		if i == 100 {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("weston did not start:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// env is what a Wayland client of w needs, and nothing of X.
func (w *weston) env() []string {
	return []string{"WAYLAND_DISPLAY=" + w.socket, "XDG_RUNTIME_DIR=" + w.runtimeDir}
}

// screenshot saves what weston shows to path.
func (w *weston) screenshot(t *testing.T, path string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("weston-screenshooter")
	cmd.Dir = dir
	cmd.Env = append(withoutDisplays(os.Environ()), w.env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("weston-screenshooter: %v\n%s", err, out)
	}
	shots, _ := filepath.Glob(filepath.Join(dir, "wayland-screenshot-*.png"))
	if len(shots) != 1 {
		t.Fatalf("screenshots: %v", shots)
	}
	data, err := os.ReadFile(shots[0])
	must(t, err)
	must(t, os.WriteFile(path, data, 0o644))
}

// pixel is the colour at x, y of the PNG at path, as ImageMagick names it.
func pixel(t *testing.T, path string, x, y int) string {
	out, err := exec.Command("convert", path, "-format", fmt.Sprintf("%%[pixel:p{%d,%d}]", x, y), "info:").Output()
	must(t, err)
	return strings.TrimSpace(string(out))
}

// TestNotifierWayland (issue 17): the Wayland build of the real notifier
// runs in a Wayland session with no X server to fall back to (no DISPLAY,
// no XWayland): a PAM login under an ASK rule shows its question there,
// a click on Allow lets the login in, on Deny refuses it. The screenshots
// stay in build/test-artifacts.
func TestNotifierWayland(t *testing.T) {
	w, _ := askWorldWithout(t, "SSH ASK GROUP g\nASK_TIMEOUT:30\n")
	compositor := startWeston(t)
	startNotifier(t, w, "pam-accesscontrol-notifier-wayland", compositor.env(), "")

	// the prompt fills the output (kiosk shell): Deny is the bottom row's
	// left half, Allow its right half (ui.NewPrompt's layout)
	buttonY := westonHeight - 38
	for _, tt := range []struct {
		user, button string
		x            int
		in           bool
	}{
		{"u01", "Allow", westonWidth * 3 / 4, true},
		{"u02", "Deny", westonWidth / 4, false},
	} {
		result := make(chan bool, 1)
		go func() { result <- sshLogin(t, w, tt.user, "192.0.2.46", "acct_mgmt") }()
		shot := filepath.Join(artifactDir(t), "notifier-wayland-"+tt.user+".png")
		// shown once the Allow button's blue is on the screen (beside
		// its label, at the right end)
		for i := 0; ; i++ {
			compositor.screenshot(t, shot)
			if c := pixel(t, shot, westonWidth-100, buttonY); isBlue(c) {
				break
			}
			if i == 60 {
				t.Fatalf("%s: no question on the Wayland screen (see %s)", tt.user, shot)
			}
			time.Sleep(250 * time.Millisecond)
		}
		if out, err := onDisplay(compositor.display, "xdotool", "mousemove", strconv.Itoa(tt.x), strconv.Itoa(buttonY), "click", "1").CombinedOutput(); err != nil {
			t.Fatalf("click: %v\n%s", err, out)
		}
		select {
		case in := <-result:
			if in != tt.in {
				t.Errorf("%s clicked for %s: logged in %v, want %v", tt.button, tt.user, in, tt.in)
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("the login did not finish after the click on %s", tt.button)
		}
	}
}

// isBlue says whether an ImageMagick srgb(r,g,b) colour is the blue of a
// high-importance button: blue well above red and green.
func isBlue(c string) bool {
	var r, g, b int
	if _, err := fmt.Sscanf(c, "srgb(%d,%d,%d)", &r, &g, &b); err != nil {
		return false
	}
	return b > 180 && b > r+60 && b > g+40
}
