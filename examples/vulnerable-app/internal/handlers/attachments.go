package handlers

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"example.com/notes/internal/store"
)

const maxUploadSize = 10 << 20

func (s *Server) noteDir(noteID int64) string {
	return filepath.Join(s.dataDir, strconv.FormatInt(noteID, 10))
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, u store.User) {
	note, ok := s.ownedNote(w, r, u)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadSize)
	file, header, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "invalid upload", http.StatusBadRequest)
		return
	}
	defer file.Close()

	dir := s.noteDir(note.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		http.Error(w, "could not store file", http.StatusInternalServerError)
		return
	}
	storedName := fmt.Sprintf("%d%s", time.Now().UnixNano(), filepath.Ext(header.Filename))
	dst, err := os.OpenFile(filepath.Join(dir, storedName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		http.Error(w, "could not store file", http.StatusInternalServerError)
		return
	}
	defer dst.Close()
	size, err := io.Copy(dst, file)
	if err != nil {
		os.Remove(dst.Name())
		http.Error(w, "upload failed", http.StatusBadRequest)
		return
	}

	att, err := s.store.AddAttachment(r.Context(), note.ID, header.Filename, storedName, size)
	if err != nil {
		log.Printf("record attachment for note %d: %v", note.ID, err)
		http.Error(w, "could not store file", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusCreated, att)
}

func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request, u store.User) {
	note, ok := s.ownedNote(w, r, u)
	if !ok {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		http.Error(w, "missing name parameter", http.StatusBadRequest)
		return
	}
	path := filepath.Join(s.noteDir(note.ID), name)
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "attachment not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.IsDir() {
		http.Error(w, "attachment not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(name)))
	http.ServeContent(w, r, filepath.Base(name), info.ModTime(), f)
}
