package server

import "net/http"

// Routes wires the report endpoints.
func Routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/reports/export", requireReportFormat(http.HandlerFunc(exportReport)))
	mux.Handle("/reports/preview", http.HandlerFunc(previewReport))
	return mux
}
