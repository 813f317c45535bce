# A policy that asks every login for a one-time password (pam_authz's
# display cycle); otpauthz.rego checks it.
package otp.display

display_spec := [
	{"message": "One-time password: ", "style": "prompt_echo_off", "key": "otp"},
]
