package main

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

static int check_account(const char *service, const char *user, const char *dir)
{
	struct pam_conv conv = { quiet, NULL };
	pam_handle_t *h = NULL;
	int rc = pam_start_confdir(service, user, &conv, dir, &h);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = pam_acct_mgmt(h, PAM_SILENT);
	pam_end(h, rc);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"
)

// brokenCodes are what libpam answers when a module line cannot work: the
// module did not load, lacks a symbol, or its helper failed.
var brokenCodes = map[C.int]string{
	C.PAM_OPEN_ERR: "the module cannot be loaded", C.PAM_SYMBOL_ERR: "the module lacks a symbol",
	C.PAM_SERVICE_ERR: "the module failed", C.PAM_SYSTEM_ERR: "the module or its helper failed",
	C.PAM_BUF_ERR: "out of memory", C.PAM_MODULE_UNKNOWN: "the module cannot be loaded (is it installed?)", C.PAM_ABORT: "libpam aborted",
}

// checkStack runs a real PAM account transaction through the module lines
// of a new service file, alone (its includes and password modules would
// want a person), before the file is written: a typo in a module line or a
// missing helper must not lock anyone out. Any answer of the rules,
// success or denial, shows the module works.
func checkStack(service string, text []byte) error {
	var ours []string
	for _, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, "pam_accesscontrol.so") && strings.HasPrefix(strings.TrimLeft(l, " \t-"), "account") {
			ours = append(ours, strings.TrimLeft(l, " \t"))
		}
	}
	if len(ours) == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "pam-accesscontrol-check")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, service), []byte(strings.Join(ours, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	csvc, cuser, cdir := C.CString(service), C.CString("root"), C.CString(dir)
	defer C.free(unsafe.Pointer(csvc))
	defer C.free(unsafe.Pointer(cuser))
	defer C.free(unsafe.Pointer(cdir))
	rc := C.check_account(csvc, cuser, cdir)
	if why, broken := brokenCodes[rc]; broken {
		return fmt.Errorf("a test transaction through %q failed: %s (PAM code %d); nothing was changed", strings.Join(ours, "; "), why, int(rc))
	}
	return nil
}
