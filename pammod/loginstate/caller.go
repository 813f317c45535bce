package loginstate

import (
	"fmt"
	"time"
)

// Opener opens the run directory for one PAM call and names the login
// that makes it. Rule mode (pammod/call) and script mode (pammod/script)
// both go through it, so that both check the caller the same way.
type Opener struct {
	// Dir is the run directory (rundir=).
	Dir string
	// Now is the store's clock; nil for the wall clock (Open).
	Now func() time.Time
	// Identify names the login of the process pid calling with the PAM
	// handle at address handle; nil is a fresh Identifier's, which reads
	// the boot id at each call. A daemon passes its own Identifier's,
	// which read the boot id once.
	Identify func(pid int32, handle string) (Login, error)
}

// Open checks that the module and the kernel name the same process,
// opens the run directory and names the caller's login.
//
// kernelPID is the calling process as the kernel names it (the helper's
// parent, or the daemon's SO_PEERCRED); claimedPID is the pid the call
// itself carries. They must agree: a login's records are keyed by its
// process, and a call that speaks for another process could read or
// overwrite that login's decision. The login is named by the kernel's pid,
// never the call's word.
func (o Opener) Open(kernelPID, claimedPID int32, handle string) (*Store, Login, error) {
	if kernelPID != claimedPID {
		return nil, Login{}, fmt.Errorf("the module says it runs in process %d, the kernel says %d", claimedPID, kernelPID)
	}
	store, err := Open(o.Dir, o.Now)
	if err != nil {
		return nil, Login{}, err
	}
	identify := o.Identify
	if identify == nil {
		identify = Identifier{}.Identify
	}
	caller, err := identify(kernelPID, handle)
	if err != nil {
		return nil, Login{}, fmt.Errorf("who is logging in: %w", err)
	}
	return store, caller, nil
}
