# Policies that answer, but not usably.
package broken

# both bodies hold: OPA answers HTTP 500 (eval_conflict_error)
allow := true if input.sysinfo.pam_username != ""

allow := false if input.sysinfo.pam_service != ""
