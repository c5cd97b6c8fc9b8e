package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
	rows, err := q.QueryContext(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("api: read tokens: %w", err)
	}
	defer rows.Close()
	var recs []tokenRecord
	for rows.Next() {
		r, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("api: read tokens: %w", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("api: read tokens: %w", err)
	}
	return recs, nil
}

// tokenColumns are the columns scanToken reads.
const tokenColumns = "id, name, hash, scopes, created_at, revoked_at"

// scanToken reads a record from a row of tokenColumns; scopes is a comma-separated list.
func scanToken(row interface{ Scan(...any) error }) (tokenRecord, error) {
	var r tokenRecord
	var scopes string
	var created, revoked int64
	if err := row.Scan(&r.ID, &r.Name, &r.Hash, &scopes, &created, &revoked); err != nil {
		return r, err
	}
	for sc := range strings.SplitSeq(scopes, ",") {
		if sc != "" {
			r.Scopes = append(r.Scopes, Scope(sc))
		}
	}
	r.CreatedAt = time.Unix(0, created).UTC()
	if revoked != 0 {
		r.RevokedAt = time.Unix(0, revoked).UTC()
	}
	return r, nil
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
func (s *SQLiteTokens) Create(ctx context.Context, name string, scopes ...Scope) (string, TokenInfo, error) {
	token, rec := newToken(name, time.Now(), scopes)
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		if sc == "" || strings.Contains(string(sc), ",") {
			return "", TokenInfo{}, fmt.Errorf("api: create token: bad scope %q", sc)
		}
		names[i] = string(sc)
	}
	err := s.update(ctx, func(tx *sql.Tx, recs []tokenRecord) error {
		if err := checkName(recs, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO tokens (id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
			rec.ID, rec.Name, rec.Hash, strings.Join(names, ","), rec.CreatedAt.UnixNano())
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
	r, err := scanToken(s.db.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return checkRecord(nil, token)
	}
	if err != nil {
		return TokenInfo{}, fmt.Errorf("api: check token: %w", err)
	}
	return checkRecord(&r, token)
}
