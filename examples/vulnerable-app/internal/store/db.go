package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var ErrNotFound = errors.New("not found")

type Store struct {
	db *sql.DB
}

func New(db *sql.DB) *Store {
	return &Store{db: db}
}

const (
	tableUsers       = "users"
	tableNotes       = "notes"
	tableAttachments = "attachments"
)

var schema = []string{
	`CREATE TABLE IF NOT EXISTS users (
		id            INTEGER PRIMARY KEY AUTOINCREMENT,
		username      TEXT NOT NULL UNIQUE,
		password_hash TEXT NOT NULL,
		is_admin      INTEGER NOT NULL DEFAULT 0,
		webhook_url   TEXT NOT NULL DEFAULT '',
		created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
	)`,
	`CREATE TABLE IF NOT EXISTS notes (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		title      TEXT NOT NULL,
		body       TEXT NOT NULL DEFAULT '',
		public     INTEGER NOT NULL DEFAULT 0,
		created_at TIMESTAMP NOT NULL,
		updated_at TIMESTAMP NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS attachments (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		note_id     INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
		filename    TEXT NOT NULL,
		stored_name TEXT NOT NULL,
		size        INTEGER NOT NULL,
		created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
	)`,
	`CREATE INDEX IF NOT EXISTS notes_owner_updated ON notes(owner_id, updated_at)`,
}

func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return tx.Commit()
}

type Stats struct {
	Since       time.Time `json:"since"`
	Users       int       `json:"users"`
	Notes       int       `json:"notes"`
	Attachments int       `json:"attachments"`
}

func (s *Store) Stats(ctx context.Context, since time.Time) (Stats, error) {
	st := Stats{Since: since}
	counts := []struct {
		table string
		dst   *int
	}{
		{tableUsers, &st.Users},
		{tableNotes, &st.Notes},
		{tableAttachments, &st.Attachments},
	}
	for _, c := range counts {
		q := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE created_at >= ?", c.table)
		if err := s.db.QueryRowContext(ctx, q, since).Scan(c.dst); err != nil {
			return Stats{}, fmt.Errorf("count %s: %w", c.table, err)
		}
	}
	return st, nil
}
