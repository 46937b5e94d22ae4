package server

import (
	"net/http"
	"os/exec"
)

func exportReport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	out, err := exec.Command("sh", "-c", "render-report --format "+format).Output()
	if err != nil {
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Write(out)
}

func previewReport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	out, err := exec.Command("sh", "-c", "render-report --preview --format "+format).Output()
	if err != nil {
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Write(out)
}
