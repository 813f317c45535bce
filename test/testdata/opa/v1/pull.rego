# pam_authz's README pull policy in Rego 1.0 syntax.
package pull

files := ["/etc/host_identity.json"]

env_vars := []
