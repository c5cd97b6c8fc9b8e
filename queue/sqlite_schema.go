package queue

import (
	"context"
	"database/sql"
	"fmt"
)

// SQLite data layout. Every table the SQLite store uses is created in this file, and the
// schema's version is the file's PRAGMA user_version; PRAGMA application_id marks the file
// as tesuji's, so a foreign SQLite file is refused rather than written into.
//
// Schema version 2:
//
//	jobs      one row per job. seq (INTEGER PRIMARY KEY) is the job's place in line, kept
//	          across requeues; id the job id (unique); the Job's fields: owner, priority,
//	          dedupe_key, payload (stored once, here only), turns (JSON array), nturns,
//	          positions, max_attempts, black, white, players (lower-cased "black NUL
//	          white", for the player filter), meta; the queue's: state, attempts, error,
//	          worker_id, created_at, started_at, finished_at (unix ns, 0 for none),
//	          token (the lease token, +1 per claim), lease_exp (unix ns by this process's
//	          clock, which is the store's clock), nresults (turns with a result),
//	          next_event (the last event id given out) and bytes (what the job holds of its
//	          owner's byte cap: payload, meta, results, event data); vars what
//	          SaveVariations stored (NULL while nothing was saved; not counted in bytes).
//	results   (job_seq, turn) -> data: each turn's result, written once. A turn event
//	          refers to its result rather than holding a copy.
//	events    (job_seq, id) -> type, turn, data: the job's event log; ids increase per
//	          job and are the event ids the contract hands out (decimal). A turn event has
//	          no data of its own (it is the result of its turn); a partial event keeps the
//	          turn it reports on, so a newer partial or the turn's result replaces it.
//	owners    owner -> jobs, bytes: what each owner stores, checked against the caps at
//	          Enqueue and kept in step by every write in the same transaction.
//	finished  state -> jobs: how many jobs reached each final state over the life of the
//	          file (Stats.Finished); Delete and retention do not lower it.
//	workers   worker id -> info (JSON), last_seen (unix ns).
//	tokens    API tokens of the embedded default: id, name, hash (hex SHA-256 of the
//	          whole token), scopes (comma-separated, '' for none), created_at,
//	          revoked_at (unix ns, 0 while live).
//	quota     (owner, minute) -> positions: the positions-per-hour quota's buckets.
//	busy      (owner, entry): an owner's jobs in progress, for the limit of jobs at once;
//	          entry is a queue job's id, deleted when the API finds the job final.
//
// A job's results and events are deleted with it (Delete, or retention), in the same
// transaction that gives back its share of the owner's usage.
//
// Migrations. schemaSteps[i] takes a file from version i to i+1, in one transaction with
// the new user_version. Version 1 had busy.expires, the lapse time of a websocket turn's
// lease (0 for a queue job); version 2 drops the leases and the column. A file of a newer
// version than this binary knows is refused, and left as it is.

// sqliteAppID is PRAGMA application_id of tesuji's files: "tsuj".
const sqliteAppID = 0x74737567

// schemaStep is one migration: the statements that take the schema one version up.
type schemaStep []string

// schemaSteps are the migrations; len(schemaSteps) is the current schema version.
var schemaSteps = []schemaStep{
	// 0 -> 1: the first layout.
	{
		`CREATE TABLE jobs (
			seq          INTEGER PRIMARY KEY AUTOINCREMENT,
			id           TEXT    NOT NULL UNIQUE,
			owner        TEXT    NOT NULL,
			priority     INTEGER NOT NULL,
			dedupe_key   TEXT    NOT NULL,
			payload      BLOB,
			turns        TEXT    NOT NULL,
			nturns       INTEGER NOT NULL,
			positions    INTEGER NOT NULL,
			max_attempts INTEGER NOT NULL,
			black        TEXT    NOT NULL,
			white        TEXT    NOT NULL,
			players      TEXT    NOT NULL,
			meta         BLOB,
			state        TEXT    NOT NULL,
			attempts     INTEGER NOT NULL DEFAULT 0,
			error        TEXT    NOT NULL DEFAULT '',
			worker_id    TEXT    NOT NULL DEFAULT '',
			created_at   INTEGER NOT NULL,
			started_at   INTEGER NOT NULL DEFAULT 0,
			finished_at  INTEGER NOT NULL DEFAULT 0,
			token        INTEGER NOT NULL DEFAULT 0,
			lease_exp    INTEGER NOT NULL DEFAULT 0,
			nresults     INTEGER NOT NULL DEFAULT 0,
			next_event   INTEGER NOT NULL DEFAULT 0,
			bytes        INTEGER NOT NULL DEFAULT 0,
			vars         BLOB
		)`,
		`CREATE INDEX jobs_ready ON jobs (priority DESC, seq) WHERE state = 'queued'`,
		`CREATE INDEX jobs_running ON jobs (lease_exp) WHERE state = 'running'`,
		`CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at > 0`,
		`CREATE INDEX jobs_owner ON jobs (owner, created_at DESC, seq DESC)`,
		`CREATE INDEX jobs_dedupe ON jobs (owner, dedupe_key) WHERE dedupe_key <> ''`,
		`CREATE TABLE results (
			job_seq INTEGER NOT NULL,
			turn    INTEGER NOT NULL,
			data    BLOB    NOT NULL,
			PRIMARY KEY (job_seq, turn)
		) WITHOUT ROWID`,
		`CREATE TABLE events (
			job_seq INTEGER NOT NULL,
			id      INTEGER NOT NULL,
			type    TEXT    NOT NULL,
			turn    INTEGER,
			data    BLOB,
			PRIMARY KEY (job_seq, id)
		) WITHOUT ROWID`,
		`CREATE TABLE owners (
			owner TEXT PRIMARY KEY,
			jobs  INTEGER NOT NULL,
			bytes INTEGER NOT NULL
		)`,
		`CREATE TABLE finished (
			state TEXT PRIMARY KEY,
			jobs  INTEGER NOT NULL
		)`,
		`INSERT INTO finished (state, jobs) VALUES ('done', 0), ('failed', 0), ('cancelled', 0)`,
		`CREATE TABLE workers (
			id        TEXT PRIMARY KEY,
			info      BLOB    NOT NULL,
			last_seen INTEGER NOT NULL
		)`,
		`CREATE TABLE tokens (
			id         TEXT PRIMARY KEY,
			name       TEXT    NOT NULL,
			hash       TEXT    NOT NULL,
			scopes     TEXT    NOT NULL DEFAULT '',
			created_at INTEGER NOT NULL,
			revoked_at INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE quota (
			owner     TEXT    NOT NULL,
			minute    INTEGER NOT NULL,
			positions INTEGER NOT NULL,
			PRIMARY KEY (owner, minute)
		) WITHOUT ROWID`,
		`CREATE TABLE busy (
			owner   TEXT    NOT NULL,
			entry   TEXT    NOT NULL,
			expires INTEGER NOT NULL,
			PRIMARY KEY (owner, entry)
		) WITHOUT ROWID`,
	},
	// 1 -> 2: websocket turns hold no leases any more; busy holds queue jobs only.
	{
		`DELETE FROM busy WHERE expires <> 0`,
		`ALTER TABLE busy DROP COLUMN expires`,
	},
}

// migrate brings the database to len(steps): it refuses a foreign file and one of a newer
// version, and runs the missing steps, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB, path string, steps []schemaStep) error {
	var appID, version, tables int
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if appID != sqliteAppID && (appID != 0 || tables > 0) {
		return fmt.Errorf("%s is an SQLite database of another program, not tesuji's; give --data a directory of its own", path)
	}
	if version > len(steps) {
		return fmt.Errorf("%s has schema version %d, newer than this tesuji knows (%d); run a newer tesuji, or give --data another directory", path, version, len(steps))
	}
	for v := version; v < len(steps); v++ {
		if err := migrateStep(ctx, db, steps[v], v+1); err != nil {
			return fmt.Errorf("migrate %s to schema version %d: %w", path, v+1, err)
		}
	}
	return nil
}

func migrateStep(ctx context.Context, db *sql.DB, step schemaStep, to int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version >= to {
		return nil // another process migrated it meanwhile
	}
	for _, stmt := range step {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	// PRAGMA takes no parameters; both values are this package's integers.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", sqliteAppID)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", to)); err != nil {
		return err
	}
	return tx.Commit()
}
