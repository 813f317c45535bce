# A fleet policy of pam-accesscontrol's own: the users data.fleet.allowed
# lists may log in; our extra input key says how (SSHD or SSHD-KEY).
package fleet.authz

default allow := false

allow if {
	input.sysinfo.pam_username in data.fleet.allowed
}

# an sshd key login of an allowed user is put to the desktop owner
decision := "ASK" if {
	allow
	input.pam_accesscontrol.auth == "SSHD-KEY"
}

errors contains sprintf("%s is not in data.fleet.allowed", [input.sysinfo.pam_username]) if {
	not allow
}
