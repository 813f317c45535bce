// Command roguedaemon plays a local user who listens where the module
// looks for the helper daemon and lets every login in: it answers each
// call with PAM_SUCCESS at once.
//
//	roguedaemon SOCKET
package main

import (
	"net"
	"os"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

func main() {
	l, err := net.Listen("unix", os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	os.Chmod(os.Args[1], 0o777)
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			conn := protocol.NewConn(c)
			if _, err := conn.ReadCall(); err == nil {
				conn.Result(protocol.PAMSuccess)
			}
		}()
	}
}
