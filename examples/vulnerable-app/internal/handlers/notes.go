package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"example.com/notes/internal/auth"
	"example.com/notes/internal/store"
	"example.com/notes/internal/webhook"
)

const shareTTL = 7 * 24 * time.Hour

func (s *Server) ownedNote(w http.ResponseWriter, r *http.Request, u store.User) (store.Note, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "bad note id", http.StatusBadRequest)
		return store.Note{}, false
	}
	note, err := s.store.GetNote(r.Context(), id)
	if err != nil || note.OwnerID != u.ID {
		http.Error(w, "note not found", http.StatusNotFound)
		return store.Note{}, false
	}
	return note, true
}

func (s *Server) handleListNotes(w http.ResponseWriter, r *http.Request, u store.User) {
	notes, err := s.store.ListNotes(r.Context(), u.ID, 100)
	if err != nil {
		http.Error(w, "could not list notes", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, notes)
}

func (s *Server) handleCreateNote(w http.ResponseWriter, r *http.Request, u store.User) {
	var req struct {
		Title  string `json:"title"`
		Body   string `json:"body"`
		Public bool   `json:"public"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "invalid request body", http.StatusBadRequest)
		return
	}
	if strings.TrimSpace(req.Title) == "" {
		http.Error(w, "title is required", http.StatusBadRequest)
		return
	}
	note, err := s.store.CreateNote(r.Context(), u.ID, req.Title, req.Body, req.Public)
	if err != nil {
		http.Error(w, "could not create note", http.StatusInternalServerError)
		return
	}
	if u.WebhookURL != "" {
		s.hooks.Enqueue(u.WebhookURL, webhook.Event{Type: "note.created", NoteID: note.ID, Title: note.Title, Timestamp: note.CreatedAt})
	}
	writeJSON(w, http.StatusCreated, note)
}

func (s *Server) handleGetNote(w http.ResponseWriter, r *http.Request, u store.User) {
	if note, ok := s.ownedNote(w, r, u); ok {
		writeJSON(w, http.StatusOK, note)
	}
}

func (s *Server) handleDeleteNote(w http.ResponseWriter, r *http.Request, u store.User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "bad note id", http.StatusBadRequest)
		return
	}
	if err := s.store.DeleteNote(r.Context(), u.ID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, "note not found", http.StatusNotFound)
			return
		}
		http.Error(w, "could not delete note", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSearchNotes(w http.ResponseWriter, r *http.Request, u store.User) {
	q := r.URL.Query()
	notes, err := s.store.SearchNotes(r.Context(), u.ID, q.Get("q"), q.Get("sort"))
	if err != nil {
		http.Error(w, "search failed", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, notes)
}

func (s *Server) handleShareNote(w http.ResponseWriter, r *http.Request, u store.User) {
	if note, ok := s.ownedNote(w, r, u); ok {
		writeJSON(w, http.StatusOK, map[string]string{"token": auth.SignShareToken(note.ID, shareTTL)})
	}
}

func (s *Server) handleShared(w http.ResponseWriter, r *http.Request) {
	id, err := auth.ParseShareToken(r.PathValue("token"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	note, err := s.store.GetNote(r.Context(), id)
	if err != nil {
		http.Error(w, "note not found", http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, note)
}

func (s *Server) handleExportNote(w http.ResponseWriter, r *http.Request, u store.User) {
	note, ok := s.ownedNote(w, r, u)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "pdf"
	}
	src, err := os.CreateTemp("", "note-*.md")
	if err != nil {
		http.Error(w, "export failed", http.StatusInternalServerError)
		return
	}
	defer os.Remove(src.Name())
	fmt.Fprintf(src, "# %s\n\n%s\n", note.Title, note.Body)
	src.Close()

	out := strings.TrimSuffix(src.Name(), ".md") + "." + format
	defer os.Remove(out)
	cmd := exec.CommandContext(r.Context(), "sh", "-c", "pandoc "+src.Name()+" -o "+out)
	if output, err := cmd.CombinedOutput(); err != nil {
		log.Printf("export note %d: %v: %s", note.ID, err, output)
		http.Error(w, "export failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"note-%d.%s\"", note.ID, format))
	http.ServeFile(w, r, out)
}
