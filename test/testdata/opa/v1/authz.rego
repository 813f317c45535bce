# pam_authz's README authz policy in Rego 1.0 syntax: `if` before each
# body, `contains` for the errors set, := for the default.
package sshd.authz

import input.display_responses
import input.pull_responses
import input.sysinfo

default allow := false

allow if {
	# Verify user input.
	display_responses.last_name == "ramesh"
	display_responses.secret == "suresh"

	# Only allow running on host_id "frontend"
	pull_responses.files["/etc/host_identity.json"].host_id == "frontend"

	# Only authorize user "ops"
	sysinfo.pam_username == "ops"
}

errors contains "You cannot pass!" if {
	not allow
}
