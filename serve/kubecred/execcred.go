// Package kubecred is `pam-accesscontrol kube-credential`: a kubectl exec
// credential plugin (client.authentication.k8s.io ExecCredential) for a
// cluster whose kube-apiserver asks `pam-accesscontrol serve` about its
// tokens (POST /authenticate). It asks for the user's name and password
// once on the terminal, trades them for a token at serve's GET /token
// (pam_hook's API: Basic authentication, a PAM login through the
// Kubernetes service and its rules), caches the token in the user's cache
// directory until it expires, and prints it for kubectl. pam_hook's users
// asked for this and never got it (bjhaid/pam_hook#10: a bash script that
// cached its token for a day, whatever the server said).
package kubecred

import (
	"encoding/json"
	"fmt"
	"time"
)

// The ExecCredential versions kubectl may ask for; v1alpha1 is gone from
// client-go since Kubernetes 1.24.
const (
	V1      = "client.authentication.k8s.io/v1"
	V1beta1 = "client.authentication.k8s.io/v1beta1"
)

// execInfo is what kubectl puts in KUBERNETES_EXEC_INFO: the version it
// wants the answer in, and whether the plugin may talk to the user.
type execInfo struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Interactive bool `json:"interactive"`
	} `json:"spec"`
}

// request is how kubectl (or a person at a shell) runs the plugin.
type request struct {
	version     string
	interactive bool
}

// parseExecInfo reads KUBERNETES_EXEC_INFO. Without it (run by hand, or by
// a client older than client-go 1.11) the answer is v1, and a terminal is
// tried. A version this plugin does not speak is an error, not a guess:
// kubectl would refuse the answer with a vaguer message.
func parseExecInfo(env string) (request, error) {
	if env == "" {
		return request{version: V1, interactive: true}, nil
	}
	var info execInfo
	if err := json.Unmarshal([]byte(env), &info); err != nil {
		return request{}, fmt.Errorf("KUBERNETES_EXEC_INFO is not JSON: %v", err)
	}
	if info.Kind != "" && info.Kind != "ExecCredential" {
		return request{}, fmt.Errorf("KUBERNETES_EXEC_INFO is a %q, not an ExecCredential", info.Kind)
	}
	switch info.APIVersion {
	case V1, V1beta1:
	default:
		return request{}, fmt.Errorf("kubectl asks for an ExecCredential of version %q; kube-credential answers %s and %s "+
			"(the apiVersion of the kubeconfig's exec section)", info.APIVersion, V1, V1beta1)
	}
	return request{version: info.APIVersion, interactive: info.Spec.Interactive}, nil
}

// execCredential is the answer kubectl reads on stdout.
type execCredential struct {
	Kind       string     `json:"kind"`
	APIVersion string     `json:"apiVersion"`
	Spec       struct{}   `json:"spec"`
	Status     execStatus `json:"status"`
}

type execStatus struct {
	// ExpirationTimestamp makes kubectl run the plugin again once the
	// token has expired, rather than only after a 401
	ExpirationTimestamp string `json:"expirationTimestamp"`
	Token               string `json:"token"`
}

// credential is the ExecCredential for token in version, as one line of
// JSON.
func credential(version, token string, expires time.Time) ([]byte, error) {
	out, err := json.Marshal(execCredential{Kind: "ExecCredential", APIVersion: version,
		Status: execStatus{ExpirationTimestamp: expires.UTC().Format(time.RFC3339), Token: token}})
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
