# What the README tells an admin to put beside pam_authz-style policies:
# OPA's decision logs must not carry the answers to echo-off prompts.
package system.log

mask contains "/input/display_responses/secret"
