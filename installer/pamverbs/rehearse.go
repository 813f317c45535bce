package pamverbs

/*
#cgo LDFLAGS: -lpam
#include <security/pam_appl.h>
#include <stdlib.h>

// quiet answers every message with nothing: the check must not wait for a
// person.
static int quiet(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)msg;
	(void)data;
	*resp = calloc((size_t)n, sizeof(struct pam_response));
	return *resp == NULL ? PAM_BUF_ERR : PAM_SUCCESS;
}

// run_phase runs one phase of a transaction: 1 auth, 2 account, 3 session.
static int run_phase(const char *service, const char *user, const char *dir, int phase)
{
	struct pam_conv conv = { quiet, NULL };
	pam_handle_t *h = NULL;
	int rc = pam_start_confdir(service, user, &conv, dir, &h);
	if (rc != PAM_SUCCESS)
		return rc;
	switch (phase) {
	case 1:
		rc = pam_authenticate(h, PAM_SILENT);
		break;
	case 2:
		rc = pam_acct_mgmt(h, PAM_SILENT);
		break;
	default:
		rc = pam_open_session(h, PAM_SILENT);
		if (rc == PAM_SUCCESS)
			pam_close_session(h, PAM_SILENT);
	}
	pam_end(h, rc);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
)

// brokenCodes are what libpam answers when a module line cannot work: the
// module did not load, lacks a symbol, or its helper failed.
var brokenCodes = map[C.int]string{
	C.PAM_OPEN_ERR: "the module cannot be loaded", C.PAM_SYMBOL_ERR: "the module lacks a symbol",
	C.PAM_SERVICE_ERR: "the module failed", C.PAM_SYSTEM_ERR: "the module or its helper failed",
	C.PAM_BUF_ERR: "out of memory", C.PAM_MODULE_UNKNOWN: "the module cannot be loaded (is it installed?)", C.PAM_ABORT: "libpam aborted",
}

// checkStack rehearses a new service file before it is written, through
// real libpam: every other module of the stack (includes followed) is made
// pam_permit.so with its own control, and ours gets a rules file that
// closes everything. Each phase with a line of ours must then be refused
// by our module: a module that cannot load, a helper that fails, or a
// stack that ends before our line (a sufficient, a jump) must not lock
// anyone out or leave a service open, so the file is not written.
func checkStack(t pamd.Tree, service string, text []byte) error {
	dir, err := os.MkdirTemp("", "pam-accesscontrol-check")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "check.conf")
	if err := os.WriteFile(conf, []byte("# pam-configure's check: our module must refuse in every phase\nDEFAULT:CLOSE\n"), 0o644); err != nil {
		return err
	}
	r, err := pamd.Rehearse(service, text, t.Resolver(), dir, "", "conf="+conf, "rundir="+filepath.Join(dir, "run"), "logdir="+dir)
	if err != nil {
		return fmt.Errorf("the stack cannot be rehearsed: %w; nothing was changed", err)
	}
	for name, text := range r.Files {
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o644); err != nil {
			return err
		}
	}
	csvc, cuser, cdir := C.CString(service), C.CString("root"), C.CString(dir)
	defer C.free(unsafe.Pointer(csvc))
	defer C.free(unsafe.Pointer(cuser))
	defer C.free(unsafe.Pointer(cdir))
	for _, typ := range r.Types {
		phase, want := C.int(2), C.int(C.PAM_PERM_DENIED)
		switch typ {
		case "auth":
			phase, want = 1, C.PAM_AUTH_ERR
		case "session":
			phase = 3
		}
		rc := C.run_phase(csvc, cuser, cdir, phase)
		if why, broken := brokenCodes[rc]; broken {
			return fmt.Errorf("a test %s transaction failed: %s (PAM code %d); nothing was changed", typ, why, int(rc))
		}
		if rc != want {
			return fmt.Errorf("a test %s transaction with every other module succeeding ended with PAM code %d, not our refusal (%d): "+
				"the stack ends before our line runs; nothing was changed", typ, int(rc), int(want))
		}
	}
	return nil
}
