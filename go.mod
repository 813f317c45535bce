module github.com/pam-accesscontrol/pam-accesscontrol

go 1.26
