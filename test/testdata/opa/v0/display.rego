# pam_authz's README display policy, as it is written there (Rego before
# 1.0: run by OPA with --v0-compatible).
# This package path should be passed with the display_endpoint flag
# in the PAM configuration file.
package display

display_spec = [
	{
		"message": "Welcome to the OPA-PAM demonstration.",
		"style": "info",
	},
	{
		"message": "Please enter your last name: ",
		"style": "prompt_echo_on",
		"key": "last_name",
	},
	{
		"message": "Please enter your secret: ",
		"style": "prompt_echo_off",
		"key": "secret",
	},
]
