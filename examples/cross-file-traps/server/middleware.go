package server

import (
	"net/http"
	"regexp"
)

var reportFormat = regexp.MustCompile(`^(pdf|html|csv)$`)

// requireReportFormat lets a request through only when its format is one of the known ones.
func requireReportFormat(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !reportFormat.MatchString(r.URL.Query().Get("format")) {
			http.Error(w, "unknown format", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
