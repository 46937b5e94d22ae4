package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"time"

	"example.com/notes/internal/auth"
	"example.com/notes/internal/store"
	"example.com/notes/internal/webhook"
)

type Server struct {
	store    *store.Store
	sessions *auth.SessionStore
	hooks    *webhook.Dispatcher
	dataDir  string
}

type userHandler func(http.ResponseWriter, *http.Request, store.User)

func NewServer(st *store.Store, hooks *webhook.Dispatcher, dataDir string) *Server {
	return &Server{
		store:    st,
		sessions: auth.NewSessionStore(12 * time.Hour),
		hooks:    hooks,
		dataDir:  dataDir,
	}
}

func (s *Server) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /register", s.handleRegister)
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /logout", s.handleLogout)
	mux.HandleFunc("GET /shared/{token}", s.handleShared)

	mux.Handle("GET /notes", s.requireLogin(s.handleListNotes))
	mux.Handle("POST /notes", s.requireLogin(s.handleCreateNote))
	mux.Handle("GET /notes/search", s.requireLogin(s.handleSearchNotes))
	mux.Handle("GET /notes/{id}", s.requireLogin(s.handleGetNote))
	mux.Handle("DELETE /notes/{id}", s.requireLogin(s.handleDeleteNote))
	mux.Handle("POST /notes/{id}/share", s.requireLogin(s.handleShareNote))
	mux.Handle("GET /notes/{id}/export", s.requireLogin(s.handleExportNote))
	mux.Handle("POST /notes/{id}/attachments", s.requireLogin(s.handleUpload))
	mux.Handle("GET /notes/{id}/attachments", s.requireLogin(s.handleDownload))

	mux.Handle("PUT /settings/webhook", s.requireLogin(s.handleSetWebhook))
	mux.Handle("POST /settings/webhook/test", s.requireLogin(s.handleTestWebhook))

	s.registerAdmin(mux)
	return mux
}

func (s *Server) requireLogin(next userHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(auth.SessionCookie)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		sess, ok := s.sessions.Lookup(c.Value)
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		u, err := s.store.UserByID(r.Context(), sess.UserID)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r, u)
	})
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&c); err != nil {
		http.Error(w, "invalid request body", http.StatusBadRequest)
		return
	}
	if len(c.Username) < 3 || len(c.Username) > 32 {
		http.Error(w, "username must be 3-32 characters", http.StatusBadRequest)
		return
	}
	if err := auth.ValidatePassword(c.Password); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u, err := s.store.CreateUser(r.Context(), c.Username, auth.HashPassword(c.Password), false)
	if err != nil {
		http.Error(w, "username already taken", http.StatusConflict)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&c); err != nil {
		http.Error(w, "invalid request body", http.StatusBadRequest)
		return
	}
	u, err := s.store.UserByUsername(r.Context(), c.Username)
	if err != nil || !auth.CheckPassword(u.PasswordHash, c.Password) {
		http.Error(w, "invalid username or password", http.StatusUnauthorized)
		return
	}
	sess := s.sessions.Create(u.ID)
	auth.SetCookie(w, sess)
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		s.sessions.Delete(c.Value)
	}
	auth.ClearCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ExpireSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n := s.sessions.Expire(now); n > 0 {
				log.Printf("expired %d sessions", n)
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("write response: %v", err)
	}
}
