// Package testbus runs private dbus-daemons configured as system buses, for
// tests and the demo: one that lets anyone do anything, and one with the
// system bus's deny-by-default policy plus policy files under test.
package testbus

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const header = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
`

// open lets anyone own and call anything. receive_sender must be allowed or
// Hello never returns.
const open = `  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
`

// systemLike is the default policy of Debian's /usr/share/dbus-1/system.conf:
// nobody owns or calls anything unless a policy file allows it.
const systemLike = `  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
`

// Bus is a private dbus-daemon.
type Bus struct {
	Address string
	cmd     *exec.Cmd
	dir     string
}

// StartBus starts a bus on which anyone may do anything.
func StartBus() (*Bus, error) { return start(open) }

// StartSystemBus starts a bus with the system bus's default policy and the
// given policy files (absolute paths) included.
func StartSystemBus(policies ...string) (*Bus, error) {
	var b strings.Builder
	b.WriteString(systemLike)
	for _, p := range policies {
		fmt.Fprintf(&b, "  <include>%s</include>\n", p)
	}
	return start(b.String())
}

func start(policy string) (*Bus, error) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "logindtest")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "system_bus_socket")
	conf := filepath.Join(dir, "system.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(header, sock)+policy+"</busconfig>\n"), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no daemon outlives a killed test
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b := &Bus{Address: "unix:path=" + sock, cmd: cmd, dir: dir}
	for i := 0; ; i++ {
		// the socket file appears at bind(), before listen(): wait for a
		// connection to go through
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			os.Chmod(sock, 0o666)
			return b, nil
		}
		if i == 500 {
			b.Stop()
			return nil, fmt.Errorf("dbus-daemon did not listen on %s", sock)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop ends the daemon and removes its directory.
func (b *Bus) Stop() {
	b.cmd.Process.Kill()
	b.cmd.Wait()
	os.RemoveAll(b.dir)
}
