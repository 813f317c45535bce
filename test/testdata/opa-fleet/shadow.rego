# A policy server that was taken over asks for /etc/shadow.
package shadowpull

files := ["/etc/shadow", "/etc/host_identity.json"]

env_vars := ["LANG"]

package_note := "authz below lets in only a login whose pull left /etc/shadow out"
