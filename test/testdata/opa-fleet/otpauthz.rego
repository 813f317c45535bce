# The users data.fleet.allowed lists may log in with the one-time
# password 424242 that otpdisplay.rego asks for.
package otp.authz

default allow := false

allow if {
	input.sysinfo.pam_username in data.fleet.allowed
	input.display_responses.otp == "424242"
}

errors contains "wrong one-time password" if {
	input.display_responses.otp != "424242"
}
