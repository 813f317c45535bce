//go:build cgo && !osusergo

package nss

/*
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"
)

// Passwd is a passwd entry, every field as the C library gives it: os/user
// cuts the GECOS field at its first comma and has no shell.
type Passwd struct {
	Name   string
	Passwd string
	UID    uint32
	GID    uint32
	Gecos  string // whole, commas and all
	Dir    string
	Shell  string // empty when the entry leaves it empty
}

// ErrNoUser means NSS has no such user.
var ErrNoUser = errors.New("no such user in NSS")

// LookupUser returns a user by name (byName) or uid through getpwnam_r or
// getpwuid_r. A name with a NUL byte names nobody: C would read only the
// part before it.
func LookupUser(name string, uid uint32, byName bool) (Passwd, error) {
	if byName && strings.IndexByte(name, 0) >= 0 {
		return Passwd{}, ErrNoUser
	}
	var pw C.struct_passwd
	var result *C.struct_passwd
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var p Passwd
	err := lookupR("user", ErrNoUser, func(buf *C.char, size C.size_t) (C.int, bool) {
		var rc C.int
		var err error
		if byName {
			rc, err = C.getpwnam_r(cname, &pw, buf, size, &result)
		} else {
			rc, err = C.getpwuid_r(C.uid_t(uid), &pw, buf, size, &result)
		}
		return resultCode(rc, err), result != nil
	}, func() {
		p = Passwd{
			Name: C.GoString(pw.pw_name), Passwd: C.GoString(pw.pw_passwd),
			UID: uint32(pw.pw_uid), GID: uint32(pw.pw_gid),
			Gecos: C.GoString(pw.pw_gecos), Dir: C.GoString(pw.pw_dir), Shell: C.GoString(pw.pw_shell),
		}
	})
	return p, err
}
