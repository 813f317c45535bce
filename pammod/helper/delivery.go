package main

import (
	"os"
	"path/filepath"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
)

// deliveryUnit is the systemd path unit that starts the deliverer when an
// item is put in the default outbox (installer/dist).
const deliveryUnit = "pam-accesscontrol-deliver.path"

// systemdHost is a host's systemd as the helper sees it: root is "/"
// but in tests.
type systemdHost struct{ root string }

// startsDeliverer says whether systemd starts the deliverer of outbox by
// itself: the outbox is the default one, which the path unit watches, the
// host runs systemd, and the unit is enabled. A login then forks no
// deliverer of its own; anywhere else (another spooldir=, no systemd, the
// unit disabled) it does, and the timer retries either way.
func (h systemdHost) startsDeliverer(outbox string) bool {
	if outbox != call.OutboxDir(DefaultSpoolDir) {
		return false
	}
	if fi, err := os.Stat(filepath.Join(h.root, "run/systemd/system")); err != nil || !fi.IsDir() {
		return false
	}
	for _, dir := range []string{"etc/systemd/system/paths.target.wants", "run/systemd/system/paths.target.wants"} {
		if _, err := os.Lstat(filepath.Join(h.root, dir, deliveryUnit)); err == nil { // the link systemctl enable makes
			return true
		}
	}
	return false
}
