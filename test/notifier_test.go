package test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/ui"
)

// artifactDir keeps what a person may want to look at after the tests.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("PAMAC_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "build", "test-artifacts")
	}
	must(t, os.MkdirAll(dir, 0o755))
	return dir
}

// startXvfb starts a virtual X server on a free display.
func startXvfb(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool+" (Debian packages xvfb, xdotool, imagemagick)")
		}
	}
	r, w, err := os.Pipe()
	must(t, err)
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	x.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, x.Start())
	w.Close()
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not say its display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// TestNotifierUnderXvfb: a PAM login under an ASK rule pops up the real
// Fyne notifier's window on a real (virtual) X display; a real click on
// Allow lets the login in, on Deny refuses it.
func TestNotifierUnderXvfb(t *testing.T) {
	w, _ := askWorldWithout(t, "SSH ASK GROUP g\nASK_TIMEOUT:30\n")
	display := startXvfb(t)
	// the default capabilities of dbusmock's server: no actions, so the
	// notifier asks in a window of its own
	session, notifier := startRealNotifier(t, w, display, "")

	for _, tt := range []struct {
		user, button string
		in           bool
	}{
		{"u01", "Allow", true},
		{"u02", "Deny", false},
	} {
		result := make(chan bool, 1)
		go func() { result <- sshLogin(t, w, tt.user, "192.0.2.44", "acct_mgmt", "open_session", "close_session") }()
		win := waitForWindow(t, display, ui.Title)
		shot := filepath.Join(artifactDir(t), "notifier-ask-"+tt.user+".png")
		if out, err := exec.Command("import", "-display", display, "-window", "root", shot).CombinedOutput(); err != nil {
			t.Errorf("screenshot: %v\n%s", err, out)
		}
		click(t, display, ui.Title, win, tt.button)
		select {
		case in := <-result:
			if in != tt.in {
				t.Errorf("%s clicked for %s: logged in %v, want %v", tt.button, tt.user, in, tt.in)
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("the login did not finish after the click on %s", tt.button)
		}
	}

	// u01's approved session closed: the desktop shows it
	bus, err := dbus.Connect(session.Address)
	must(t, err)
	defer bus.Close()
	// (the notifier also asks the server for its capabilities at each
	// question: the last Notify is the logout's)
	for i := 0; ; i++ {
		var notifies [][]dbus.Variant
		calls := mockCalls(t, bus)
		for _, c := range calls {
			if c.Method == "Notify" {
				notifies = append(notifies, c.Args)
			}
		}
		if len(notifies) > 0 {
			args := notifies[len(notifies)-1]
			if len(args) < 5 || args[4].Value() != "u01 from 192.0.2.44 logged out (sshd)." {
				t.Fatalf("notification %v", args)
			}
			break
		}
		if i == 50 {
			var names []string
			bus.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names)
			env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", notifier.Process.Pid))
			t.Fatalf("no notification of u01's logout (%d calls); names %v; env %q", len(calls), names,
				grep(strings.Split(string(env), "\x00"), "DBUS"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startRealNotifier starts the built notifier on display, in root's
// desktop session of w, with a session bus whose notification server is
// Debian's python3-dbusmock (which remembers the calls it gets) with the
// capabilities caps ("" for its defaults), and waits until it answers on
// the system bus.
func startRealNotifier(t *testing.T, w *numberWorld, display, caps string) (*testbus.Bus, *exec.Cmd) {
	t.Helper()
	return startNotifier(t, w, "pam-accesscontrol-notifier", []string{"DISPLAY=" + display}, caps)
}

// startNotifier is startRealNotifier with the build's program binary
// (the X11 or the Wayland build) and the display server's variables env.
func startNotifier(t *testing.T, w *numberWorld, binary string, env []string, caps string) (*testbus.Bus, *exec.Cmd) {
	t.Helper()
	session, err := testbus.StartBus() // the desktop's session bus, for notifications and the tray
	must(t, err)
	t.Cleanup(session.Stop)
	if exec.Command("/usr/bin/python3", "-c", "import dbusmock").Run() != nil {
		testenv.Missing(t, "python3-dbusmock")
	}
	args := []string{"-m", "dbusmock", "--session", "-t", "notification_daemon"}
	if caps != "" {
		args = append(args, "-p", `{"capabilities": "`+caps+`"}`)
	}
	notifications := exec.Command("/usr/bin/python3", args...)
	notifications.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+session.Address)
	notifications.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, notifications.Start())
	t.Cleanup(func() { notifications.Process.Kill(); notifications.Wait() })
	waitForName(t, session.Address, "org.freedesktop.Notifications")

	home := t.TempDir()
	notifier := exec.Command(filepath.Join(buildDir, binary))
	notifier.Env = append(append(withoutDisplays(os.Environ()), env...), "DBUS_SYSTEM_BUS_ADDRESS="+w.bus.Address,
		"DBUS_SESSION_BUS_ADDRESS="+session.Address, "HOME="+home, "LANG=C.UTF-8")
	logf, err := os.Create(filepath.Join(home, "notifier.log"))
	must(t, err)
	notifier.Stdout, notifier.Stderr = logf, logf
	notifier.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, notifier.Start())
	t.Cleanup(func() { notifier.Process.Kill(); notifier.Wait() })
	w.logind.SetPIDSession(uint32(notifier.Process.Pid), "2") // it runs in the desktop session
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", w.bus.Address)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := dbusapi.Ping(ctx, 0)
		cancel()
		if err == nil {
			break
		}
		if i == 100 {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("the notifier did not come up: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return session, notifier
}

// withoutDisplays is env without the variables that name a display server:
// the notifier must find the one the test gives it, and no other.
func withoutDisplays(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "DISPLAY=") && !strings.HasPrefix(e, "WAYLAND_DISPLAY=") && !strings.HasPrefix(e, "XDG_RUNTIME_DIR=") {
			out = append(out, e)
		}
	}
	return out
}

// waitForName waits until name has an owner on the bus at addr.
func waitForName(t *testing.T, addr, name string) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	must(t, err)
	defer conn.Close()
	for i := 0; i < 200; i++ {
		var has bool
		if conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has) == nil && has {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("nobody owns %s", name)
}

// mockCalls are the calls dbusmock's notification server got.
func mockCalls(t *testing.T, bus *dbus.Conn) []struct {
	When   uint64
	Method string
	Args   []dbus.Variant
} {
	t.Helper()
	var calls []struct {
		When   uint64
		Method string
		Args   []dbus.Variant
	}
	must(t, bus.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications").
		Call("org.freedesktop.DBus.Mock.GetCalls", 0).Store(&calls))
	return calls
}

// TestNotifierNotificationActions: where the desktop's notification server
// offers actions, the real notifier asks in a notification (critical, with
// Deny and Allow, the time left) and no window of its own; the desktop
// owner's Allow lets the login in, a dismissal keeps it out.
func TestNotifierNotificationActions(t *testing.T) {
	w, _ := askWorldWithout(t, "SSH ASK GROUP g\nASK_TIMEOUT:30\n")
	display := startXvfb(t)
	session, _ := startRealNotifier(t, w, display, "actions body")
	bus, err := dbus.Connect(session.Address)
	must(t, err)
	defer bus.Close()
	mock := bus.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")

	for _, tt := range []struct {
		user, signal, sig string
		arg               any
		in                bool
	}{
		{"u01", "ActionInvoked", "us", "allow", true},
		{"u02", "NotificationClosed", "uu", uint32(2), false}, // dismissed
		{"u03", "ActionInvoked", "us", "deny", false},
	} {
		result := make(chan bool, 1)
		go func() { result <- sshLogin(t, w, tt.user, "192.0.2.45", "acct_mgmt") }()
		// the question: the newest notification that replaces none; the
		// mock numbers those 1, 2, 3…
		var id uint32
		for i := 0; id == 0; i++ {
			n := uint32(0)
			for _, c := range mockCalls(t, bus) {
				if c.Method != "Notify" || c.Args[1].Value().(uint32) != 0 {
					continue
				}
				n++
				if strings.Contains(c.Args[4].Value().(string), tt.user+" wants to log in from 192.0.2.45 through sshd.") {
					id = n
					if hints := c.Args[6].Value().(map[string]dbus.Variant); hints["urgency"].Value() != byte(2) {
						t.Errorf("%s: not critical: %v", tt.user, hints)
					}
				}
			}
			if i == 100 {
				t.Fatalf("%s: no notification asked", tt.user)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, _ := onDisplay(display, "xdotool", "search", "--onlyvisible", "--name", ui.Title).Output(); strings.TrimSpace(string(out)) != "" {
			t.Errorf("%s: a window was shown as well", tt.user)
		}
		must(t, mock.Call("org.freedesktop.DBus.Mock.EmitSignal", 0, "org.freedesktop.Notifications", tt.signal, tt.sig,
			[]any{id, tt.arg}).Err)
		select {
		case in := <-result:
			if in != tt.in {
				t.Errorf("%s after %s %v: logged in %v, want %v", tt.user, tt.signal, tt.arg, in, tt.in)
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("%s: the login did not finish after %s", tt.user, tt.signal)
		}
	}
}

// askWorldWithout is askWorld with the real notifier to come instead of a
// fake one: root's desktop session on seat0.
func askWorldWithout(t *testing.T, rules string) (*numberWorld, error) {
	t.Helper()
	w := newNumberWorld(t, rules, true)
	must(t, w.logind.Add(logindtest.Session{ID: "2", UID: 0, User: "root", Service: "gdm-password", Type: "x11",
		Class: "user", State: "active", Seat: "seat0"}))
	w.logind.Activate("2")
	return w, nil
}

func waitForWindow(t *testing.T, display, title string) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		out, err := onDisplay(display, "xdotool", "search", "--onlyvisible", "--name", title).Output()
		if id := strings.TrimSpace(string(out)); err == nil && id != "" {
			time.Sleep(300 * time.Millisecond) // let it draw
			return strings.Fields(id)[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no window %q appeared", title)
	return ""
}

// click presses a prompt's button: Deny is the left half of the bottom
// row, Allow the right half (ui.NewPrompt's layout). win is the window
// waitForWindow found with title.
func click(t *testing.T, display, title, win, button string) {
	t.Helper()
	geo := windowGeometry(t, display, title, win)
	x := geo["X"] + geo["WIDTH"]/4
	if button == "Allow" {
		x = geo["X"] + geo["WIDTH"]*3/4
	}
	y := geo["Y"] + geo["HEIGHT"] - 22
	if out, err := onDisplay(display, "xdotool", "mousemove", fmt.Sprint(x), fmt.Sprint(y), "click", "1").CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v\n%s", err, out)
	}
}

// geometryWait bounds windowGeometry's retries: far more than a window
// takes to map on a busy machine, far less than the ASK timeout.
const geometryWait = 10 * time.Second

// windowGeometry is xdotool's X, Y, WIDTH and HEIGHT of the window titled
// title that waitForWindow found as win. Right after the search sees it,
// a window may not answer yet on a busy machine (getwindowgeometry exited
// 1 once), or it may be replaced while it maps: until geometryWait has
// passed it asks again, searching anew by title between tries, and then
// fails with the last error, so a window that never maps still fails.
func windowGeometry(t *testing.T, display, title, win string) map[string]int {
	t.Helper()
	var last string
	for deadline := time.Now().Add(geometryWait); ; {
		out, err := onDisplay(display, "xdotool", "getwindowgeometry", "--shell", win).Output()
		geo := map[string]int{}
		for _, l := range strings.Fields(string(out)) {
			if k, v, ok := strings.Cut(l, "="); ok {
				geo[k], _ = strconv.Atoi(v)
			}
		}
		switch {
		case err != nil:
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			last = fmt.Sprintf("window %s: %v %s", win, err, strings.TrimSpace(string(stderr)))
		case geo["WIDTH"] <= 0 || geo["HEIGHT"] <= 0:
			last = fmt.Sprintf("window %s has no size yet: %q", win, out)
		default:
			return geo
		}
		if time.Now().After(deadline) {
			t.Fatalf("xdotool getwindowgeometry of %q failed for %v; last: %s", title, geometryWait, last)
		}
		time.Sleep(100 * time.Millisecond)
		if out, err := onDisplay(display, "xdotool", "search", "--onlyvisible", "--name", title).Output(); err == nil {
			if ids := strings.Fields(string(out)); len(ids) > 0 {
				win = ids[0]
			}
		}
	}
}

// onDisplay is exec.Command for an X client of display.
func onDisplay(display, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	return cmd
}
