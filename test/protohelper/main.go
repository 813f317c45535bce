// Command protohelper stands in for pam-accesscontrol-helper in tests of
// the C module's side of the protocol: it makes every kind of request the
// module serves and writes what came back to a report file, so the test
// can check libpam's answers (items, environment, per-handle data,
// conversation, pam_get_user, fail delay) through the real module.
//
// The module line gives it the report file as its script path, after
// "bad-request" to make it send a malformed request instead:
//
//	auth required pam_accesscontrol.so helper=/path/protohelper [bad-request] /path/report
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

func main() {
	conn := protocol.NewConn(os.NewFile(3, "module"))
	call, err := conn.ReadCall()
	if err != nil {
		os.Exit(1)
	}
	report := call.Args[len(call.Args)-1]
	f, err := os.OpenFile(report, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		os.Exit(1)
	}
	defer f.Close()
	say := func(format string, args ...any) { fmt.Fprintf(f, call.Fn.String()+" "+format+"\n", args...) }

	if len(call.Args) > 1 && call.Args[len(call.Args)-2] == "bad-request" {
		_, err = conn.Converse([]protocol.ConvMessage{{Style: 99, Text: "bad style"}})
		say("bad converse %v", err) // the module refuses and the call fails closed
		conn.Result(protocol.PAMSuccess)
		return
	}
	say("call user=%v service=%v rhost=%v tty=%v args=%d", call.User, call.Service, call.RHost, call.TTY, len(call.Args))
	rhost, err := conn.GetItem(protocol.ItemRHost)
	say("get rhost %v %v", rhost, err)
	say("set ruser %v", conn.SetItem(protocol.ItemRUser, protocol.Some("remote-bob")))
	ruser, err := conn.GetItem(protocol.ItemRUser)
	say("get ruser %v %v", ruser, err)
	say("set service %v", conn.SetItem(protocol.ItemService, protocol.Some("evil")))
	_, err = conn.GetItem(5) // PAM_CONV: not a string, not served
	say("get conv %v", err)
	say("putenv %v", conn.PutEnv("PAMAC_TEST="+call.Fn.String()))
	v, err := conn.GetEnv("PAMAC_TEST")
	say("getenv %v %v", v, err)
	env, err := conn.EnvList()
	say("envlist %s %v", strings.Join(env, ","), err)
	prev, err := conn.GetData("seen")
	say("getdata %v %v", prev, err)
	say("setdata %v", conn.SetData("seen", protocol.Some("by "+call.Fn.String())))
	say("faildelay %v", conn.FailDelay(1000))
	user, err := conn.GetUser(protocol.Opt{})
	say("getuser %q %v", user, err)
	resp, err := conn.Converse([]protocol.ConvMessage{
		{Style: protocol.PromptEchoOff, Text: "Secret: "},
		{Style: protocol.TextInfo, Text: "hello from the helper"},
		{Style: protocol.PromptEchoOn, Text: "Name: "},
	})
	say("converse %v %v", resp, err)
	conn.Result(protocol.PAMSuccess)
}
