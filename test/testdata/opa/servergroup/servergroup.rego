# One policy for a fleet: only the servers of group web-eu let ops in
# (SERVER_GROUP, sent as input.pam_accesscontrol.server_group).
package sshd.authz

default allow := false

allow if {
	input.pam_accesscontrol.server_group == "web-eu"
	input.sysinfo.pam_username == "ops"
}
