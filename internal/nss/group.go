//go:build cgo && !osusergo

package nss

/*
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"
)

// Group is a group entry: os/user leaves out the members.
type Group struct {
	Name    string
	Passwd  string // gr_passwd, as the C library gives it
	GID     uint32
	Members []string // supplementary members; the primary members are in passwd
}

// ErrNoGroup means NSS has no such group.
var ErrNoGroup = errors.New("no such group in NSS")

// LookupGroup returns a group by name (byName) or gid, with its members,
// through getgrnam_r or getgrgid_r. A name with a NUL byte names no group:
// C would read only the part before it.
func LookupGroup(name string, gid uint32, byName bool) (Group, error) {
	if byName && strings.IndexByte(name, 0) >= 0 {
		return Group{}, ErrNoGroup
	}
	var grp C.struct_group
	var result *C.struct_group
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var g Group
	err := lookupR("group", ErrNoGroup, func(buf *C.char, size C.size_t) (C.int, bool) {
		var rc C.int
		var err error
		if byName {
			rc, err = C.getgrnam_r(cname, &grp, buf, size, &result)
		} else {
			rc, err = C.getgrgid_r(C.gid_t(gid), &grp, buf, size, &result)
		}
		return resultCode(rc, err), result != nil
	}, func() {
		g = Group{Name: C.GoString(grp.gr_name), Passwd: C.GoString(grp.gr_passwd), GID: uint32(grp.gr_gid)}
		for p := grp.gr_mem; p != nil && *p != nil; p = (**C.char)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p))) {
			g.Members = append(g.Members, C.GoString(*p))
		}
	})
	return g, err
}
