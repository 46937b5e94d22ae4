package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

type Note struct {
	ID        int64     `json:"id"`
	OwnerID   int64     `json:"owner_id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Public    bool      `json:"public"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type Attachment struct {
	ID         int64     `json:"id"`
	NoteID     int64     `json:"note_id"`
	Filename   string    `json:"filename"`
	StoredName string    `json:"stored_name"`
	Size       int64     `json:"size"`
	CreatedAt  time.Time `json:"created_at"`
}

const noteColumns = "id, owner_id, title, body, public, created_at, updated_at"

type scanner interface {
	Scan(dest ...any) error
}

func scanNote(row scanner) (Note, error) {
	var n Note
	err := row.Scan(&n.ID, &n.OwnerID, &n.Title, &n.Body, &n.Public, &n.CreatedAt, &n.UpdatedAt)
	return n, err
}

func (s *Store) CreateNote(ctx context.Context, ownerID int64, title, body string, public bool) (Note, error) {
	now := time.Now().UTC()
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO notes (owner_id, title, body, public, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		ownerID, title, body, public, now, now)
	if err != nil {
		return Note{}, fmt.Errorf("insert note: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Note{}, err
	}
	return Note{ID: id, OwnerID: ownerID, Title: title, Body: body, Public: public, CreatedAt: now, UpdatedAt: now}, nil
}

func (s *Store) GetNote(ctx context.Context, id int64) (Note, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+noteColumns+" FROM notes WHERE id = ?", id)
	n, err := scanNote(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Note{}, ErrNotFound
	}
	return n, err
}

func (s *Store) ListNotes(ctx context.Context, ownerID int64, limit int) ([]Note, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT "+noteColumns+" FROM notes WHERE owner_id = ? ORDER BY updated_at DESC LIMIT ?",
		ownerID, limit)
	if err != nil {
		return nil, err
	}
	return collectNotes(rows)
}

func (s *Store) SearchNotes(ctx context.Context, ownerID int64, term, sort string) ([]Note, error) {
	query := "SELECT " + noteColumns + " FROM notes WHERE owner_id = ? AND (title LIKE '%" +
		term + "%' OR body LIKE '%" + term + "%')"
	if sort == "title" {
		query += " ORDER BY title COLLATE NOCASE"
	} else {
		query += " ORDER BY updated_at DESC"
	}
	rows, err := s.db.QueryContext(ctx, query, ownerID)
	if err != nil {
		return nil, fmt.Errorf("search notes: %w", err)
	}
	return collectNotes(rows)
}

func (s *Store) DeleteNote(ctx context.Context, ownerID, id int64) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM notes WHERE id = ? AND owner_id = ?", id, ownerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *Store) AddAttachment(ctx context.Context, noteID int64, filename, storedName string, size int64) (Attachment, error) {
	now := time.Now().UTC()
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO attachments (note_id, filename, stored_name, size, created_at) VALUES (?, ?, ?, ?, ?)`,
		noteID, filename, storedName, size, now)
	if err != nil {
		return Attachment{}, fmt.Errorf("insert attachment: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Attachment{}, err
	}
	return Attachment{ID: id, NoteID: noteID, Filename: filename, StoredName: storedName, Size: size, CreatedAt: now}, nil
}

func collectNotes(rows *sql.Rows) ([]Note, error) {
	defer rows.Close()
	var out []Note
	for rows.Next() {
		n, err := scanNote(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
