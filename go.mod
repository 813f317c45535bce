module github.com/pam-accesscontrol/pam-accesscontrol

go 1.26

require (
	github.com/RackSec/srslog v0.0.0-20180709174129-a4725f04ec91
	github.com/godbus/dbus/v5 v5.2.4
)

require golang.org/x/sys v0.27.0 // indirect
