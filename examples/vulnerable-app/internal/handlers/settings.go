package handlers

import (
	"encoding/json"
	"io"
	"net/http"

	"example.com/notes/internal/store"
	"example.com/notes/internal/webhook"
)

func (s *Server) handleSetWebhook(w http.ResponseWriter, r *http.Request, u store.User) {
	var req struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		http.Error(w, "invalid request body", http.StatusBadRequest)
		return
	}
	target, err := webhook.ValidateURL(req.URL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.store.SetWebhookURL(r.Context(), u.ID, target); err != nil {
		http.Error(w, "could not save webhook", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleTestWebhook(w http.ResponseWriter, r *http.Request, u store.User) {
	if u.WebhookURL == "" {
		http.Error(w, "no webhook configured", http.StatusBadRequest)
		return
	}
	res, err := s.hooks.Test(r.Context(), u.WebhookURL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
