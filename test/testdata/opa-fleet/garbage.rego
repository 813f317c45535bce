package garbage

# a string where pam_authz and we want a boolean
allow := "yes"
