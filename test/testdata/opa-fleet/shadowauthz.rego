package shadowauthz

default allow := false

allow if {
	not input.pull_responses.files["/etc/shadow"]
	input.pull_responses.files["/etc/host_identity.json"].host_id == "frontend"
}

errors contains sprintf("pulled %v", [sort([k | some k, _ in input.pull_responses.files])])
