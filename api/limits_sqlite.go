package api

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SQLiteLimits is a LimitStore in the embedded default's database (the quota and busy
// tables of queue/sqlite_schema.go), so usage outlives a restart.
type SQLiteLimits struct {
	db *sql.DB
}

// NewSQLiteLimits returns the store in db, a handle from queue.OpenSQLiteDB or
// (*queue.SQLite).DB.
func NewSQLiteLimits(db *sql.DB) *SQLiteLimits { return &SQLiteLimits{db: db} }

// tx runs fn in one transaction.
func (s *SQLiteLimits) tx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("api: %s: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("api: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("api: %s: %w", op, err)
	}
	return nil
}

// Charge implements LimitStore.
func (s *SQLiteLimits) Charge(ctx context.Context, owner string, n, quota int64, now time.Time) (bool, time.Time, error) {
	minute := now.Unix() / 60
	ok := false
	var fits time.Time
	err := s.tx(ctx, "charge quota", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM quota WHERE owner = ? AND minute <= ?", owner, minute-60); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT minute, positions FROM quota WHERE owner = ?", owner)
		if err != nil {
			return err
		}
		minutes := map[int64]int64{}
		var used int64
		for rows.Next() {
			var m, c int64
			if err := rows.Scan(&m, &c); err != nil {
				rows.Close()
				return err
			}
			minutes[m] = c
			used += c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if used+n > quota {
			fits = fitsAt(minutes, used, n, quota, minute)
			return nil
		}
		ok = true
		return addPositions(ctx, tx, owner, minute, n)
	})
	return ok, fits, err
}

func addPositions(ctx context.Context, tx *sql.Tx, owner string, minute, n int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO quota (owner, minute, positions) VALUES (?, ?, ?)
		ON CONFLICT (owner, minute) DO UPDATE SET positions = positions + excluded.positions`, owner, minute, n)
	return err
}

// Refund implements LimitStore.
func (s *SQLiteLimits) Refund(ctx context.Context, owner string, n int64, now time.Time) error {
	return s.tx(ctx, "refund quota", func(tx *sql.Tx) error {
		return addPositions(ctx, tx, owner, now.Unix()/60, -n)
	})
}

// Admit implements LimitStore.
func (s *SQLiteLimits) Admit(ctx context.Context, owner, id string, limit int) (bool, error) {
	ok := false
	err := s.tx(ctx, "admit job", func(tx *sql.Tx) error {
		var held bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM busy WHERE owner = ? AND entry = ?)", owner, id).Scan(&held); err != nil {
			return err
		}
		if held {
			ok = true
			return nil
		}
		if limit > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM busy WHERE owner = ?", owner).Scan(&n); err != nil {
				return err
			}
			if n >= limit {
				return nil
			}
		}
		ok = true
		_, err := tx.ExecContext(ctx, "INSERT INTO busy (owner, entry) VALUES (?, ?)", owner, id)
		return err
	})
	return ok, err
}

// Jobs implements LimitStore.
func (s *SQLiteLimits) Jobs(ctx context.Context, owner string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT entry FROM busy WHERE owner = ?", owner)
	if err != nil {
		return nil, fmt.Errorf("api: list jobs in progress: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("api: list jobs in progress: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Remove implements LimitStore.
func (s *SQLiteLimits) Remove(ctx context.Context, owner string, ids ...string) error {
	return s.tx(ctx, "remove jobs in progress", func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, "DELETE FROM busy WHERE owner = ? AND entry = ?", owner, id); err != nil {
				return err
			}
		}
		return nil
	})
}
