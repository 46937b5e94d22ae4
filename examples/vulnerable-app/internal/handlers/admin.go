package handlers

import (
	"errors"
	"log"
	"net/http"
	"strconv"
	"time"

	"example.com/notes/internal/store"
)

func (s *Server) registerAdmin(mux *http.ServeMux) {
	mux.Handle("GET /admin/users", s.requireLogin(s.handleAdminListUsers))
	mux.Handle("GET /admin/stats", s.requireLogin(s.handleAdminStats))
	mux.Handle("POST /admin/users/{id}/promote", s.requireLogin(s.handleAdminPromote))
	mux.Handle("DELETE /admin/users/{id}", s.requireLogin(s.handleAdminDeleteUser))
}

func forbidNonAdmin(w http.ResponseWriter, u store.User) bool {
	if !u.IsAdmin {
		http.Error(w, "forbidden", http.StatusForbidden)
		return true
	}
	return false
}

func (s *Server) handleAdminListUsers(w http.ResponseWriter, r *http.Request, u store.User) {
	if forbidNonAdmin(w, u) {
		return
	}
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		http.Error(w, "could not list users", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, users)
}

func (s *Server) handleAdminStats(w http.ResponseWriter, r *http.Request, u store.User) {
	if forbidNonAdmin(w, u) {
		return
	}
	since := time.Now().UTC().AddDate(0, 0, -30)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, "since must be an RFC 3339 timestamp", http.StatusBadRequest)
			return
		}
		since = t
	}
	stats, err := s.store.Stats(r.Context(), since)
	if err != nil {
		http.Error(w, "could not compute stats", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, stats)
}

func (s *Server) handleAdminPromote(w http.ResponseWriter, r *http.Request, u store.User) {
	if forbidNonAdmin(w, u) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "bad user id", http.StatusBadRequest)
		return
	}
	if err := s.store.SetAdmin(r.Context(), id, true); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, "user not found", http.StatusNotFound)
			return
		}
		http.Error(w, "could not promote user", http.StatusInternalServerError)
		return
	}
	log.Printf("admin %s promoted user %d", u.Username, id)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request, u store.User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "bad user id", http.StatusBadRequest)
		return
	}
	if id == u.ID {
		http.Error(w, "use account settings to delete your own account", http.StatusBadRequest)
		return
	}
	if err := s.store.DeleteUser(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, "user not found", http.StatusNotFound)
			return
		}
		http.Error(w, "could not delete user", http.StatusInternalServerError)
		return
	}
	s.sessions.DeleteUser(id)
	log.Printf("user %s deleted user %d", u.Username, id)
	w.WriteHeader(http.StatusNoContent)
}
