package queue

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteMigration opens a file of the current schema with a binary that knows one
// more version (a fake step): the file is migrated, once, and afterwards the current
// binary refuses it as newer, naming the file, rather than writing into it.
func TestSQLiteMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tesuji.db")
	q, err := OpenSQLite(ctx, SQLiteConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := q.Enqueue(ctx, &Job{Owner: "alice", Black: "Shin Jinseo", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	q.Close()

	next := append(append([]schemaStep{}, schemaSteps...), schemaStep{
		`ALTER TABLE jobs ADD COLUMN note TEXT NOT NULL DEFAULT 'migrated'`,
	})
	db, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for range 2 { // the second run finds nothing to do
		if err := migrate(ctx, db, path, next); err != nil {
			t.Fatalf("migrate to version %d: %v", len(next), err)
		}
	}
	var version int
	var note, black string
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT note, black FROM jobs WHERE id = ?", j.ID).Scan(&note, &black); err != nil {
		t.Fatal(err)
	}
	if version != len(next) || note != "migrated" || black != "Shin Jinseo" {
		t.Errorf("after the migration: version %d, note %q, black %q; want %d, the new column's default and the old data",
			version, note, black, len(next))
	}
	db.Close()

	_, err = OpenSQLite(ctx, SQLiteConfig{Path: path})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening a file of a newer schema: %v, want an error naming the file and why", err)
	}
}
