//go:build cgo && !osusergo

package nss

/*
#include <errno.h>
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"syscall"
)

// resultCode is a getXXX_r call's result as POSIX has it, the error number
// itself: some NSS modules (nss_wrapper) return -1 and set errno instead,
// and their ERANGE must still grow the buffer.
func resultCode(rc C.int, err error) C.int {
	if e, ok := err.(syscall.Errno); rc == -1 && ok && e != 0 {
		return C.int(e)
	}
	return rc
}

// lookupR runs one of the C library's getXXX_r calls with a buffer that
// grows while the call says ERANGE. call returns the C result code and
// whether it found an entry; read copies the entry out of the buffer,
// which is freed after. A missing entry, and the codes some NSS modules
// give for one, are notFound.
func lookupR(what string, notFound error, call func(buf *C.char, size C.size_t) (C.int, bool), read func()) error {
	for size := C.size_t(4096); size <= 1<<24; size *= 4 {
		buf := C.malloc(size)
		rc, found := call((*C.char)(buf), size)
		switch {
		case rc == C.ERANGE:
			C.free(buf)
			continue
		case rc != 0:
			C.free(buf)
			switch syscall.Errno(rc) {
			case syscall.ENOENT, syscall.ESRCH, syscall.EBADF, syscall.EPERM:
				return notFound // how some NSS modules say "not found"
			}
			return fmt.Errorf("NSS %s lookup: %w", what, syscall.Errno(rc))
		case !found:
			C.free(buf)
			return notFound
		}
		read()
		C.free(buf)
		return nil
	}
	return fmt.Errorf("NSS %s entry too large", what)
}
