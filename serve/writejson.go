package serve

import (
	"net/http"

	// encoding/json's drop-in, a few times faster: kube-apiserver asks
	// /authenticate for every request it has not cached, and encoding/json
	// cost more than the rest of a TokenReview did (see make bench). It
	// encodes every answer and decodes TokenReviews; request bodies that
	// carry passwords stay with encoding/json (decode in server.go).
	json "github.com/segmentio/encoding/json"
)

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
