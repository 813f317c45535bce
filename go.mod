module github.com/pam-accesscontrol/pam-accesscontrol

go 1.26

require github.com/RackSec/srslog v0.0.0-20180709174129-a4725f04ec91
