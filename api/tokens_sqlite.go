package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SQLiteTokens is a TokenStore in the embedded default's database (the tokens table of
// queue/sqlite_schema.go). `tesuji token` and a running server open the same file, and
// every Check reads the table, so a new or revoked token takes effect at once.
type SQLiteTokens struct {
	db *sql.DB
}

// NewSQLiteTokens returns the store in db, a handle from queue.OpenSQLiteDB or
// (*queue.SQLite).DB.
func NewSQLiteTokens(db *sql.DB) *SQLiteTokens { return &SQLiteTokens{db: db} }

func (s *SQLiteTokens) records(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]tokenRecord, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, name, hash, created_at, revoked_at FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("api: read tokens: %w", err)
	}
	defer rows.Close()
	var recs []tokenRecord
	for rows.Next() {
		var r tokenRecord
		var created, revoked int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Hash, &created, &revoked); err != nil {
			return nil, fmt.Errorf("api: read tokens: %w", err)
		}
		r.CreatedAt = time.Unix(0, created).UTC()
		if revoked != 0 {
			r.RevokedAt = time.Unix(0, revoked).UTC()
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("api: read tokens: %w", err)
	}
	return recs, nil
}

// update runs fn on every record in one transaction.
func (s *SQLiteTokens) update(ctx context.Context, fn func(tx *sql.Tx, recs []tokenRecord) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("api: tokens: %w", err)
	}
	defer tx.Rollback()
	recs, err := s.records(ctx, tx)
	if err != nil {
		return err
	}
	if err := fn(tx, recs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("api: tokens: %w", err)
	}
	return nil
}

// Create implements TokenStore.
func (s *SQLiteTokens) Create(ctx context.Context, name string) (string, TokenInfo, error) {
	token, rec := newToken(name, time.Now())
	err := s.update(ctx, func(tx *sql.Tx, recs []tokenRecord) error {
		if err := checkName(recs, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO tokens (id, name, hash, created_at) VALUES (?, ?, ?, ?)",
			rec.ID, rec.Name, rec.Hash, rec.CreatedAt.UnixNano())
		if err != nil {
			return fmt.Errorf("api: create token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return token, rec.TokenInfo, nil
}

// List implements TokenStore.
func (s *SQLiteTokens) List(ctx context.Context) ([]TokenInfo, error) {
	recs, err := s.records(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return infos(recs), nil
}

// Revoke implements TokenStore.
func (s *SQLiteTokens) Revoke(ctx context.Context, idOrName string) (TokenInfo, error) {
	var info TokenInfo
	err := s.update(ctx, func(tx *sql.Tx, recs []tokenRecord) error {
		i, err := findRecord(recs, idOrName)
		if err != nil {
			return err
		}
		if !recs[i].Revoked() {
			recs[i].RevokedAt = time.Now().UTC().Truncate(time.Second)
			if _, err := tx.ExecContext(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ?",
				recs[i].RevokedAt.UnixNano(), recs[i].ID); err != nil {
				return fmt.Errorf("api: revoke token: %w", err)
			}
		}
		info = recs[i].TokenInfo
		return nil
	})
	return info, err
}

// Check implements TokenStore.
func (s *SQLiteTokens) Check(ctx context.Context, token string) (TokenInfo, error) {
	id, ok := tokenID(token)
	if !ok {
		return TokenInfo{}, ErrTokenInvalid
	}
	var r tokenRecord
	var created, revoked int64
	err := s.db.QueryRowContext(ctx, "SELECT id, name, hash, created_at, revoked_at FROM tokens WHERE id = ?", id).
		Scan(&r.ID, &r.Name, &r.Hash, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return checkRecord(nil, token)
	}
	if err != nil {
		return TokenInfo{}, fmt.Errorf("api: check token: %w", err)
	}
	r.CreatedAt = time.Unix(0, created).UTC()
	if revoked != 0 {
		r.RevokedAt = time.Unix(0, revoked).UTC()
	}
	return checkRecord(&r, token)
}
