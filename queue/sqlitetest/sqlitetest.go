// Package sqlitetest opens the SQLite store that tests use: a fresh database file in the
// test's temporary directory, closed when the test ends.
package sqlitetest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/tesuji/tesuji/queue"
)

// Open returns a store on a new file in t.TempDir() (cfg.Path, when set, is taken as a
// name inside that directory) and closes it with t.Cleanup.
func Open(t testing.TB, cfg queue.SQLiteConfig) *queue.SQLite {
	t.Helper()
	name := cfg.Path
	if name == "" {
		name = "tesuji.db"
	}
	cfg.Path = filepath.Join(t.TempDir(), name)
	q, err := queue.OpenSQLite(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open the SQLite store: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// DB returns a handle on a new database file in t.TempDir(), as queue.OpenSQLiteDB opens
// it for the API's token and limit stores, and closes it with t.Cleanup.
func DB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := queue.OpenSQLiteDB(context.Background(), filepath.Join(t.TempDir(), "tesuji.db"))
	if err != nil {
		t.Fatalf("open an SQLite database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
