package queue

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// TestSQLiteMigrationDropsLeases opens a file of schema version 1, whose busy table holds
// a queue job and a websocket turn's lease: the migration keeps the job and drops the
// lease and the column of lease expiries.
func TestSQLiteMigrationDropsLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tesuji.db")
	db, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, path, schemaSteps[:1]); err != nil {
		t.Fatalf("create a file of version 1: %v", err)
	}
	if _, err := db.Exec(`INSERT INTO busy (owner, entry, expires) VALUES
		('alice', 'job1', 0), ('alice', 'ws:1:1', 1765000000000000000), ('bob', 'job2', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	q, err := OpenSQLite(ctx, SQLiteConfig{Path: path})
	if err != nil {
		t.Fatalf("open a file of version 1: %v", err)
	}
	defer q.Close()
	var version int
	if err := q.DB().QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(schemaSteps) {
		t.Errorf("version %d after the migration, want %d", version, len(schemaSteps))
	}
	got := [][]string{}
	rows, err := q.DB().Query("SELECT * FROM busy ORDER BY owner, entry")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, cols)
	for rows.Next() {
		var owner, entry string
		if err := rows.Scan(&owner, &entry); err != nil {
			t.Fatalf("a busy row after the migration: %v", err)
		}
		got = append(got, []string{owner, entry})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"owner", "entry"}, {"alice", "job1"}, {"bob", "job2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("busy after the migration, columns then rows (-want +got):\n%s", diff)
	}
}
