package main

import (
	"os"
	"os/exec"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
)

// startDeliverer runs the deliverer of outbox as its own process, in its
// own session, with nothing of the helper's: the helper exits at once and
// the module does not wait for the network. "" is no outbox; nothing is
// started where systemd's path unit does it (delivery.go).
func startDeliverer(outbox string, log *logging.Logger) {
	if outbox == "" || (systemdHost{root: "/"}).startsDeliverer(outbox) {
		return
	}
	self, err := os.Executable()
	if err != nil {
		log.Error("deliverer: %v", err)
		return
	}
	cmd := exec.Command(self, "--deliver", outbox)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if err := cmd.Start(); err != nil {
		log.Error("starting the deliverer: %v", err)
		return
	}
	// reaped by the daemon when it ends; a helper run for one call exits
	// first, and init reaps it
	go cmd.Wait()
}
