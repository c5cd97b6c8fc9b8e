package queue

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLiteConfig configures the SQLite store. Path is required; the zero value of every
// other field means its default.
type SQLiteConfig struct {
	// Path is the database file. Its directory is created when missing; a lock file
	// beside it (Path + ".lock") keeps a second queue off the same file.
	Path string
	// LeaseTTL is the lease of a Claim or Heartbeat that passes none. Default 30s.
	LeaseTTL time.Duration
	// MaxAttempts is how many failed attempts a job gets when it names none. Default 3.
	MaxAttempts int
	// Retention is how long a final job stays before it is deleted with its results and
	// events. Default 0: kept until its owner deletes it.
	Retention time.Duration
	// RegistryTTL is how long a worker's registry entry lives without a refresh. Default 30s.
	RegistryTTL time.Duration
	// MaxOwnerJobs caps the jobs one owner stores, in any state. Default 10,000; negative:
	// no cap.
	MaxOwnerJobs int
	// MaxOwnerBytes caps the bytes one owner stores (payloads, meta, results, events).
	// Default 1 GiB; negative: no cap.
	MaxOwnerBytes int64
	// Logger receives expired leases and dead letters. Default: discarded.
	Logger *slog.Logger
}

// Default owner caps of both stores.
const (
	DefaultMaxOwnerJobs  = 10000
	DefaultMaxOwnerBytes = 1 << 30
)

func (c *SQLiteConfig) setDefaults() {
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.RegistryTTL <= 0 {
		c.RegistryTTL = 30 * time.Second
	}
	if c.MaxOwnerJobs == 0 {
		c.MaxOwnerJobs = DefaultMaxOwnerJobs
	}
	if c.MaxOwnerBytes == 0 {
		c.MaxOwnerBytes = DefaultMaxOwnerBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// SQLite is the store of the embedded default: one process, one database file in WAL
// mode (schema in sqlite_schema.go), the changes waiting at one moment committed together
// (see do). Claim and Events wait on channels that a committed change closes, never by
// polling; one sweeper goroutine expires leases, retained jobs and worker entries at their
// deadlines. The clock of leases and fencing is this process's.
type SQLite struct {
	cfg    SQLiteConfig
	db     *sql.DB // one connection, for every change
	rdb    *sql.DB // several connections, for reads: WAL lets them run beside a change
	wstmts *stmts  // db's prepared statements
	rstmts *stmts  // rdb's
	log    *slog.Logger
	unlock func()

	wmu     sync.Mutex
	pending []*writeOp    // changes waiting for the writer connection
	writing chan struct{} // held (one slot) by the goroutine committing a group

	mu       sync.Mutex
	changed  chan struct{}          // closed and replaced when a job may have become claimable
	appended map[string]*jobWaiters // job id -> the Events calls waiting on it

	closed    atomic.Bool
	done      chan struct{} // closed by Close
	kick      chan struct{} // tells the sweeper a deadline moved
	swept     chan struct{} // closed when the sweeper has returned
	closeOnce sync.Once
}

// jobWaiters are the Events calls waiting on one job, and the job's events appended since
// the first of them began to wait: the tail, whose ids follow each other, so a waiter woken
// by an append reads it from memory rather than from the file.
type jobWaiters struct {
	ch   chan struct{}
	n    int
	tail []tailEvent
}

type tailEvent struct {
	id int64
	ev Event
}

// tailMax bounds a job's tail; a waiter further behind reads the file.
const tailMax = 256

var _ Queue = (*SQLite)(nil)

// OpenSQLite opens (creating or migrating) the store at cfg.Path, takes the lock beside
// it and starts the sweeper; Close stops it. Its errors name the file and what to do.
func OpenSQLite(ctx context.Context, cfg SQLiteConfig) (*SQLite, error) {
	cfg.setDefaults()
	if cfg.Path == "" {
		return nil, errors.New("queue: sqlite: no database path")
	}
	unlock, err := lockData(cfg.Path)
	if err != nil {
		return nil, err
	}
	db, err := OpenSQLiteDB(ctx, cfg.Path)
	if err != nil {
		unlock()
		return nil, err
	}
	// The lock is this process's alone, so a job running now ran in a process that
	// ended (a crash, kill -9): its lease ends at once, and the sweeper's first round puts
	// it back in line the way an expired lease does. Its stored turns stay.
	if _, err := db.ExecContext(ctx, "UPDATE jobs SET lease_exp = 0 WHERE state = 'running'"); err != nil {
		db.Close()
		unlock()
		return nil, fmt.Errorf("queue: %w", explainOpen(cfg.Path, err))
	}
	rdb, err := sql.Open("sqlite", sqliteDSN(cfg.Path, false))
	if err != nil {
		db.Close()
		unlock()
		return nil, fmt.Errorf("queue: open %s: %w", cfg.Path, err)
	}
	rdb.SetMaxOpenConns(sqliteReaders)
	rdb.SetMaxIdleConns(sqliteReaders)
	s := &SQLite{
		cfg:      cfg,
		db:       db,
		rdb:      rdb,
		wstmts:   newStmts(db),
		rstmts:   newStmts(rdb),
		log:      cfg.Logger,
		unlock:   unlock,
		changed:  make(chan struct{}),
		appended: make(map[string]*jobWaiters),
		done:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
		writing:  make(chan struct{}, 1),
		swept:    make(chan struct{}),
	}
	go s.sweeper()
	return s, nil
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// OpenSQLiteDB opens the database at path for the stores that share it (API tokens and
// limits) without the queue's lock, so `tesuji token` can change a running server's
// tokens. It creates the file and its directory when missing and brings the schema up to
// date. Callers close the handle.
func OpenSQLiteDB(ctx context.Context, path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("queue: cannot create the data directory of %s: %w; give --data a writable directory", path, err)
	}
	if f, err := os.Open(path); err == nil {
		head := make([]byte, len(sqliteMagic))
		n, _ := io.ReadFull(f, head)
		f.Close()
		if n > 0 && string(head[:n]) != sqliteMagic {
			return nil, fmt.Errorf("queue: %s is not a tesuji database (corrupt, or another program's file); move it away or give --data another directory", path)
		}
	}
	db, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	// One connection: every change is one transaction in turn, and a read never waits
	// on a writer of this process in SQLite's busy handler.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := migrate(ctx, db, path, schemaSteps); err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: %w", explainOpen(path, err))
	}
	return db, nil
}

// sqliteReaders is how many connections serve the store's reads at once.
const sqliteReaders = 4

// sqliteDSN is the data source name of a connection to path: a writer's transactions take
// the write lock when they begin (so two writers never deadlock upgrading), a reader's
// never write.
func sqliteDSN(path string, writer bool) string {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	if writer {
		return dsn + "&_txlock=immediate"
	}
	return dsn + "&_pragma=query_only(1)"
}

// explainOpen turns SQLite's answer at open into what the user should do.
func explainOpen(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%s is corrupt or not a tesuji database (%v); move it away or give --data another directory", path, err)
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
		return fmt.Errorf("cannot write %s (%v); make its directory writable or give --data another directory", path, err)
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("the disk of %s is full (%v); free space or give --data another directory", path, err)
	}
	return err
}

// storeErr marks the errors of a disk or file that cannot serve now as ErrUnavailable.
func storeErr(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB,
		sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PERM:
		return unavailableError{err}
	}
	return err
}

// DB returns the store's database handle, which the API's token and limit stores share.
func (s *SQLite) DB() *sql.DB { return s.db }

// Path returns the database file.
func (s *SQLite) Path() string { return s.cfg.Path }

// Close stops the sweeper, ends every blocked call with ErrClosed, closes the database and
// releases the lock.
func (s *SQLite) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		<-s.swept
		s.wstmts.close()
		s.rstmts.close()
		err = errors.Join(s.rdb.Close(), s.db.Close())
		s.unlock()
	})
	return err
}

// stmts keeps a handle's prepared statements: SQLite spends more time parsing a statement
// than running the store's small ones, and database/sql keeps each prepared per connection.
type stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, m: map[string]*sql.Stmt{}} }

// cached returns the statement if it is prepared already.
func (c *stmts) cached(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// get returns the statement, preparing it when needed. It takes a connection, so a caller
// holding one (in a transaction) must not call it: the pool may have no other.
func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := c.cached(query); st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		st.Close()
		return nil, ErrClosed
	}
	if old := c.m[query]; old != nil {
		st.Close()
		return old, nil
	}
	c.m[query] = st
	return st, nil
}

// warm prepares the statements a transaction ran unprepared, once it has given back its
// connection.
func (c *stmts) warm(queries []string) {
	for _, q := range queries {
		_, _ = c.get(context.Background(), q)
	}
}

func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// txn is one transaction of the store and what to announce once it commits.
type txn struct {
	*sql.Tx
	stmts     *stmts
	missed    []string // statements run unprepared, for stmts.warm
	appended  []appended
	deleted   []string // jobs deleted: their tails go
	ctx       context.Context
	now       int64 // unix ns
	wakeClaim bool
	wakeJobs  []string
	kick      bool
}

func (t *txn) stmt(query string) (*sql.Stmt, error) {
	if st := t.stmts.cached(query); st != nil {
		return t.StmtContext(t.ctx, st), nil
	}
	t.missed = append(t.missed, query)
	return t.PrepareContext(t.ctx, query)
}

func (t *txn) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *txn) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

// queryRow is QueryRowContext through the statement cache; an error preparing the
// statement comes back from Scan.
func (t *txn) queryRow(query string, args ...any) scanner {
	st, err := t.stmt(query)
	if err != nil {
		return errScanner{err}
	}
	return st.QueryRowContext(t.ctx, args...)
}

// appended is an event a transaction appended, for the tails of the job's waiters.
type appended struct {
	jobID string
	ev    tailEvent
}

type errScanner struct{ err error }

func (e errScanner) Scan(...any) error { return e.err }

func (s *SQLite) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// writeOp is one change waiting for the writer connection.
type writeOp struct {
	ctx  context.Context
	op   string
	fn   func(t *txn) error
	t    *txn
	err  error
	done chan struct{} // closed once err is final
}

// maxGroup bounds how many changes share one transaction.
const maxGroup = 64

// do runs fn in a transaction and, once it commits, wakes who waits for what it changed.
// The changes waiting at the same moment share one transaction (group commit): each runs
// under its own savepoint, so its failure undoes it alone, and each caller hears of its
// own success only once the shared COMMIT has succeeded; if that fails, every change in
// the group fails.
func (s *SQLite) do(ctx context.Context, op string, fn func(t *txn) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	w := &writeOp{ctx: ctx, op: op, fn: fn, done: make(chan struct{})}
	s.wmu.Lock()
	s.pending = append(s.pending, w)
	s.wmu.Unlock()
	for {
		select {
		case <-w.done:
			return w.err
		case s.writing <- struct{}{}:
			s.wmu.Lock()
			n := min(len(s.pending), maxGroup)
			group := slices.Clone(s.pending[:n])
			s.pending = slices.Delete(s.pending, 0, n)
			s.wmu.Unlock()
			if len(group) > 0 {
				s.commitGroup(group)
			}
			<-s.writing
		}
	}
}

// commitGroup runs a group of changes in one transaction and ends each of them.
func (s *SQLite) commitGroup(group []*writeOp) {
	defer func() {
		for _, w := range group {
			if w.t != nil {
				s.wstmts.warm(w.t.missed)
			}
			close(w.done)
		}
	}()
	failAll := func(err error) {
		for _, w := range group {
			if w.err == nil {
				w.err = s.fail(w.op, err)
			}
		}
	}
	// The shared transaction outlives any one caller's context; a caller gone before its
	// turn is skipped.
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		failAll(err)
		return
	}
	defer tx.Rollback()
	savepoints := len(group) > 1
	ok := 0
	for _, w := range group {
		if w.err = s.check(w.ctx); w.err != nil {
			continue
		}
		t := &txn{Tx: tx, stmts: s.wstmts, ctx: context.WithoutCancel(w.ctx), now: time.Now().UnixNano()}
		w.t = t
		if savepoints {
			if _, err := t.exec("SAVEPOINT op"); err != nil {
				failAll(err)
				return
			}
		}
		err := w.fn(t)
		if err != nil {
			w.err = s.fail(w.op, err)
			if !savepoints {
				return
			}
			// SQLite may have rolled the whole transaction back (a full disk, an I/O
			// error): then the savepoint is gone and so is every change before.
			if _, rerr := t.exec("ROLLBACK TO op"); rerr != nil {
				failAll(err)
				return
			}
			t.appended, t.deleted, t.wakeJobs, t.wakeClaim, t.kick = nil, nil, nil, false, false
		}
		if savepoints {
			if _, err := t.exec("RELEASE op"); err != nil {
				failAll(err)
				return
			}
		}
		if w.err == nil {
			ok++
		}
	}
	if ok == 0 {
		return
	}
	if err := tx.Commit(); err != nil {
		failAll(err)
		return
	}
	for _, w := range group {
		if w.err == nil {
			s.announce(w.t)
		}
	}
}

// read runs fn on a consistent snapshot, for the calls that change nothing.
func (s *SQLite) read(ctx context.Context, op string, fn func(t *txn) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	t := &txn{Tx: tx, stmts: s.rstmts, ctx: ctx, now: time.Now().UnixNano()}
	defer func() { s.rstmts.warm(t.missed) }()
	defer tx.Rollback()
	if err := fn(t); err != nil {
		return s.fail(op, err)
	}
	return nil
}

func (s *SQLite) fail(op string, err error) error {
	if s.closed.Load() && !errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("queue: %s: %w", op, storeErr(err))
}

func (s *SQLite) announce(t *txn) {
	s.mu.Lock()
	if t.wakeClaim {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	for _, a := range t.appended {
		if w := s.appended[a.jobID]; w != nil {
			w.tail = append(w.tail, a.ev)
			if len(w.tail) > tailMax {
				w.tail = append(w.tail[:0:0], w.tail[len(w.tail)-tailMax/2:]...)
			}
		}
	}
	for _, id := range t.deleted {
		if w := s.appended[id]; w != nil {
			w.tail = nil
		}
	}
	for _, id := range t.wakeJobs {
		if w := s.appended[id]; w != nil {
			close(w.ch)
			w.ch = make(chan struct{})
		}
	}
	s.mu.Unlock()
	if t.kick {
		s.kickSweeper()
	}
}

// claimChanged returns the channel closed at the next change that may make a job
// claimable; take it before looking, so a change made meanwhile is not missed.
func (s *SQLite) claimChanged() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// watchJob returns the channel closed at the job's next event, and the function that
// ends the watch.
func (s *SQLite) watchJob(id string) (func() <-chan struct{}, func()) {
	s.mu.Lock()
	w := s.appended[id]
	if w == nil {
		w = &jobWaiters{ch: make(chan struct{})}
		s.appended[id] = w
	}
	w.n++
	s.mu.Unlock()
	current := func() <-chan struct{} {
		s.mu.Lock()
		defer s.mu.Unlock()
		return w.ch
	}
	return current, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if w.n--; w.n == 0 {
			delete(s.appended, id)
		}
	}
}

// fromTail returns the job's events after an id from its waiters' tail, when the tail
// holds all of them; ok is false when the file must be read.
func (s *SQLite) fromTail(jobID string, after int64, limit int) (evs []Event, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.appended[jobID]
	if w == nil || len(w.tail) == 0 || w.tail[0].id > after+1 {
		return nil, false
	}
	for _, e := range w.tail {
		if e.id > after && (limit < 0 || len(evs) < limit) {
			evs = append(evs, e.ev)
		}
	}
	return evs, true
}

// jobRow is a job's row: the Job and the columns the contract does not show.
type jobRow struct {
	job      Job
	seq      int64
	token    int64
	leaseExp int64
	nresults int
	bytes    int64
}

// jobColumns are the columns scanRow reads, payload given by the caller (List reads none).
func jobColumns(payload string) string {
	return "seq, id, owner, priority, dedupe_key, " + payload + ", turns, positions, max_attempts, black, white, meta, " +
		"state, attempts, error, worker_id, created_at, started_at, finished_at, token, lease_exp, nresults, bytes"
}

type scanner interface{ Scan(dest ...any) error }

func scanRow(sc scanner) (*jobRow, error) {
	var r jobRow
	var turns string
	var created, started, finished int64
	j := &r.job
	err := sc.Scan(&r.seq, &j.ID, &j.Owner, &j.Priority, &j.DedupeKey, &j.Payload, &turns, &j.Positions,
		&j.MaxAttempts, &j.Black, &j.White, &j.Meta, &j.State, &j.Attempts, &j.Error, &j.WorkerID,
		&created, &started, &finished, &r.token, &r.leaseExp, &r.nresults, &r.bytes)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(turns), &j.Turns); err != nil {
		return nil, fmt.Errorf("job %s: turns %q: %w", j.ID, turns, err)
	}
	if len(j.Turns) == 0 {
		j.Turns = nil
	}
	if len(j.Payload) == 0 {
		j.Payload = nil
	}
	if len(j.Meta) == 0 {
		j.Meta = nil
	}
	j.CreatedAt, j.StartedAt, j.FinishedAt = unixNano(created), unixNano(started), unixNano(finished)
	return &r, nil
}

func unixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// row returns the job matching where (a condition, with ORDER BY and LIMIT if needed), or
// nil.
func (t *txn) row(where string, args ...any) (*jobRow, error) {
	return t.scanOne("payload", where, args...)
}

// byID returns the job's row, or ErrNotFound.
func (t *txn) byID(jobID string) (*jobRow, error) {
	r, err := t.row("id = ?", jobID)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound(jobID)
	}
	return r, nil
}

// bareRow is row without the payload, for the writes that do not need it.
func (t *txn) bareRow(where string, args ...any) (*jobRow, error) {
	return t.scanOne("NULL", where, args...)
}

func (t *txn) scanOne(payload, where string, args ...any) (*jobRow, error) {
	r, err := scanRow(t.queryRow("SELECT "+jobColumns(payload)+" FROM jobs WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// rows returns the jobs matching where, without their payloads.
func (t *txn) rows(where string, args ...any) ([]*jobRow, error) {
	rows, err := t.query("SELECT "+jobColumns("NULL")+" FROM jobs WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*jobRow
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// duplicate returns the live job of owner's with dedupeKey, or nil.
func (t *txn) duplicate(owner, dedupeKey string) (*jobRow, error) {
	return t.row("owner = ? AND dedupe_key = ? AND state NOT IN ('failed', 'cancelled') ORDER BY seq DESC LIMIT 1",
		owner, dedupeKey)
}

func (s *SQLite) Duplicate(ctx context.Context, owner, dedupeKey string) (*Job, error) {
	var out *Job
	err := s.read(ctx, "duplicate", func(t *txn) error {
		r, err := t.duplicate(owner, dedupeKey)
		switch {
		case err != nil:
			return err
		case r == nil:
			return fmt.Errorf("%w: no job of %q with that dedupe key", ErrNotFound, owner)
		}
		out = &r.job
		return nil
	})
	return out, err
}

func (s *SQLite) Enqueue(ctx context.Context, in *Job) (*Job, bool, error) {
	if err := validate(in); err != nil {
		return nil, false, fmt.Errorf("queue: enqueue: %w", err)
	}
	var out *Job
	created := false
	err := s.do(ctx, "enqueue", func(t *txn) error {
		if in.DedupeKey != "" {
			r, err := t.duplicate(in.Owner, in.DedupeKey)
			if err != nil || r != nil {
				if r != nil {
					out = &r.job
				}
				return err
			}
		}
		id := in.ID
		if id == "" {
			id = newID()
		} else if r, err := t.row("id = ?", id); err != nil || r != nil {
			if err == nil {
				err = fmt.Errorf("%w: job id %s is taken", ErrInvalid, id)
			}
			return err
		}
		size := int64(len(in.Payload) + len(in.Meta))
		if err := s.checkCaps(t, in.Owner, size); err != nil {
			return err
		}
		maxAttempts := in.MaxAttempts
		if maxAttempts == 0 {
			maxAttempts = s.cfg.MaxAttempts
		}
		turns, _ := json.Marshal(in.Turns)
		res, err := t.exec(`INSERT INTO jobs (id, owner, priority, dedupe_key, payload, turns, nturns,
			positions, max_attempts, black, white, players, meta, state, created_at, bytes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
			id, in.Owner, in.Priority, in.DedupeKey, nilIfEmpty(in.Payload), string(turns), len(in.Turns),
			in.Positions, maxAttempts, in.Black, in.White, players(in.Black, in.White), nilIfEmpty(in.Meta), t.now, size)
		if err != nil {
			return err
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO owners (owner, jobs, bytes) VALUES (?, 1, ?)
			ON CONFLICT (owner) DO UPDATE SET jobs = jobs + 1, bytes = bytes + excluded.bytes`, in.Owner, size); err != nil {
			return err
		}
		r, err := t.row("seq = ?", seq)
		if err != nil {
			return err
		}
		out, created = &r.job, true
		t.wakeClaim = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// players is what the player filter searches: both names, lower-cased.
func players(black, white string) string {
	return strings.ToLower(black) + "\x00" + strings.ToLower(white)
}

// checkCaps refuses a job of size bytes that would take the owner over a cap.
func (s *SQLite) checkCaps(t *txn, owner string, size int64) error {
	var jobs, bytes int64
	err := t.queryRow("SELECT jobs, bytes FROM owners WHERE owner = ?", owner).Scan(&jobs, &bytes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return checkOwnerCaps(owner, jobs, bytes, size, int64(s.cfg.MaxOwnerJobs), s.cfg.MaxOwnerBytes)
}

// checkOwnerCaps is the caps' rule for both stores: a cap (positive) refuses a job that
// would take the owner's usage past it.
func checkOwnerCaps(owner string, jobs, bytes, size, maxJobs, maxBytes int64) error {
	if maxJobs > 0 && jobs+1 > maxJobs {
		return &OwnerLimitError{Owner: owner, Limit: LimitJobs, Max: maxJobs, Used: jobs, Need: 1}
	}
	if maxBytes > 0 && bytes+size > maxBytes {
		return &OwnerLimitError{Owner: owner, Limit: LimitBytes, Max: maxBytes, Used: bytes, Need: size}
	}
	return nil
}

func (s *SQLite) Claim(ctx context.Context, workerID string, leaseTTL time.Duration, only ...Priority) (*Job, *Lease, error) {
	if leaseTTL <= 0 {
		leaseTTL = s.cfg.LeaseTTL
	}
	// queued selects the jobs this claimer may take.
	queued, args := "state = 'queued'", []any(nil)
	if len(only) > 0 {
		marks := make([]string, len(only))
		for i, p := range only {
			if p != PriorityReview && p != PriorityInteractive {
				return nil, nil, fmt.Errorf("queue: claim: %w: unknown priority %d", ErrInvalid, p)
			}
			marks[i], args = "?", append(args, int(p))
		}
		queued += " AND priority IN (" + strings.Join(marks, ", ") + ")"
	}
	for {
		changed := s.claimChanged()
		// Look before taking the write lock: most wake-ups of an idle claimer find
		// another claimer was first. Expired leases are the sweeper's.
		var waiting bool
		err := s.read(ctx, "claim", func(t *txn) error {
			return t.queryRow("SELECT EXISTS (SELECT 1 FROM jobs WHERE "+queued+")", args...).Scan(&waiting)
		})
		if err != nil {
			return nil, nil, err
		}
		var job *Job
		var lease *Lease
		if waiting {
			err = s.do(ctx, "claim", func(t *txn) error {
				r, err := t.row(queued+" ORDER BY priority DESC, seq LIMIT 1", args...)
				if err != nil || r == nil {
					return err
				}
				r.token++
				r.leaseExp = t.now + leaseTTL.Nanoseconds()
				if _, err := t.exec(`UPDATE jobs SET state = 'running', worker_id = ?, started_at = ?,
				token = ?, lease_exp = ? WHERE seq = ?`, workerID, t.now, r.token, r.leaseExp, r.seq); err != nil {
					return err
				}
				r.job.State, r.job.WorkerID, r.job.StartedAt = StateRunning, workerID, unixNano(t.now)
				job = &r.job
				lease = &Lease{JobID: r.job.ID, WorkerID: workerID, Token: r.token, Expires: unixNano(r.leaseExp)}
				t.kick = true
				return nil
			})
		}
		if err != nil {
			return nil, nil, err
		}
		if job != nil {
			return job, lease, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-s.done:
			return nil, nil, ErrClosed
		case <-changed:
		}
	}
}

// expireLeases counts a failed attempt for every running job whose lease has ended.
func (s *SQLite) expireLeases(t *txn) error {
	expired, err := t.rows("state = 'running' AND lease_exp <= ?", t.now)
	if err != nil {
		return err
	}
	for _, r := range expired {
		s.log.Info("lease expired", "job_id", r.job.ID, "worker_id", r.job.WorkerID, "attempts", r.job.Attempts+1)
		if err := s.attemptFailed(t, r, "lease expired", true); err != nil {
			return err
		}
	}
	return nil
}

// fence returns the row of the job a lease still holds.
func fence(t *txn, l *Lease) (*jobRow, error) {
	if l == nil {
		return nil, fmt.Errorf("%w: no lease", ErrInvalid)
	}
	r, err := t.bareRow("id = ?", l.JobID)
	switch {
	case err != nil:
		return nil, err
	case r == nil:
		return nil, leaseLost(l.JobID)
	case r.job.State == StateCancelled:
		return nil, cancelledError{l.JobID}
	case r.job.State != StateRunning || r.token != l.Token || r.leaseExp <= t.now:
		return nil, leaseLost(l.JobID)
	}
	return r, nil
}

// fenced runs a lease holder's write in a transaction once the lease is found current.
func (s *SQLite) fenced(ctx context.Context, l *Lease, op string, write func(t *txn, r *jobRow) error) error {
	return s.do(ctx, op, func(t *txn) error {
		r, err := fence(t, l)
		if err != nil {
			return err
		}
		return write(t, r)
	})
}

func (s *SQLite) Heartbeat(ctx context.Context, l *Lease, leaseTTL time.Duration) error {
	if leaseTTL <= 0 {
		leaseTTL = s.cfg.LeaseTTL
	}
	var exp int64
	err := s.fenced(ctx, l, "heartbeat", func(t *txn, r *jobRow) error {
		exp = t.now + leaseTTL.Nanoseconds()
		t.kick = true
		_, err := t.exec("UPDATE jobs SET lease_exp = ? WHERE seq = ?", exp, r.seq)
		return err
	})
	if err == nil {
		l.Expires = unixNano(exp)
	}
	return err
}

func (s *SQLite) StoreResult(ctx context.Context, l *Lease, turn int, result []byte) (bool, error) {
	stored := false
	err := s.fenced(ctx, l, "store result", func(t *txn, r *jobRow) error {
		if !hasTurn(r.job.Turns, turn) {
			return fmt.Errorf("%w: job %s has no turn %d", ErrInvalid, r.job.ID, turn)
		}
		res, err := t.exec("INSERT INTO results (job_seq, turn, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			r.seq, turn, result)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		freed, err := dropPartials(t, r.seq, "AND turn = ?", turn)
		if err != nil {
			return err
		}
		delta := int64(len(result)) - freed
		// One statement counts the result and takes the turn event's id.
		var id int64
		if err := t.queryRow(`UPDATE jobs SET nresults = nresults + 1, bytes = bytes + ?,
			next_event = next_event + 1 WHERE seq = ? RETURNING next_event`, delta, r.seq).Scan(&id); err != nil {
			return err
		}
		if _, err := t.exec("UPDATE owners SET bytes = bytes + ? WHERE owner = ?", delta, r.job.Owner); err != nil {
			return err
		}
		stored = true
		return recordEvent(t, r, id, EventTurn, &turn, result)
	})
	return stored, err
}

// ReplaceResult makes result the turn's stored result and appends a turn event with it;
// the same result again (a retried call) changes nothing.
func (s *SQLite) ReplaceResult(ctx context.Context, l *Lease, turn int, result []byte) error {
	return s.fenced(ctx, l, "replace result", func(t *txn, r *jobRow) error {
		if !hasTurn(r.job.Turns, turn) {
			return fmt.Errorf("%w: job %s has no turn %d", ErrInvalid, r.job.ID, turn)
		}
		var old []byte
		err := t.queryRow("SELECT data FROM results WHERE job_seq = ? AND turn = ?", r.seq, turn).Scan(&old)
		had := err == nil
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case bytes.Equal(old, result):
			return nil
		}
		// A turn event reads the turn's stored result; the events of the result being
		// replaced keep what they said.
		if had {
			res, err := t.exec("UPDATE events SET data = ? WHERE job_seq = ? AND type = 'turn' AND turn = ? AND data IS NULL",
				old, r.seq, turn)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if err := addBytes(t, r, n*int64(len(old))); err != nil {
				return err
			}
		}
		if _, err := t.exec(`INSERT INTO results (job_seq, turn, data) VALUES (?, ?, ?)
			ON CONFLICT (job_seq, turn) DO UPDATE SET data = excluded.data`, r.seq, turn, result); err != nil {
			return err
		}
		freed, err := dropPartials(t, r.seq, "AND turn = ?", turn)
		if err != nil {
			return err
		}
		added := 1
		if had {
			added = 0
		}
		if _, err := t.exec("UPDATE jobs SET nresults = nresults + ? WHERE seq = ?", added, r.seq); err != nil {
			return err
		}
		if err := addBytes(t, r, int64(len(result))-int64(len(old))-freed); err != nil {
			return err
		}
		return appendEvent(t, r, EventTurn, &turn, result)
	})
}

func hasTurn(turns []int, turn int) bool {
	for _, t := range turns {
		if t == turn {
			return true
		}
	}
	return false
}

// partialTurn is the turn a partial report is about ("turn" in its JSON; -1 when it
// names none).
func partialTurn(data []byte) int {
	var p struct {
		Turn *int `json:"turn"`
	}
	if json.Unmarshal(data, &p) != nil || p.Turn == nil {
		return -1
	}
	return *p.Turn
}

// dropPartials deletes the job's partial events matching cond and returns the bytes they
// held.
func dropPartials(t *txn, seq int64, cond string, args ...any) (int64, error) {
	rows, err := t.query("DELETE FROM events WHERE job_seq = ? AND type = 'partial' "+cond+" RETURNING length(data)",
		append([]any{seq}, args...)...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var freed int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
		freed += n
	}
	return freed, rows.Err()
}

// addBytes counts delta more bytes held by the job, for it and its owner.
func addBytes(t *txn, r *jobRow, delta int64) error {
	if delta == 0 {
		return nil
	}
	r.bytes += delta
	if _, err := t.exec("UPDATE jobs SET bytes = bytes + ? WHERE seq = ?", delta, r.seq); err != nil {
		return err
	}
	_, err := t.exec("UPDATE owners SET bytes = bytes + ? WHERE owner = ?", delta, r.job.Owner)
	return err
}

// appendEvent appends an event to the job's log. A turn event's data is its result,
// which the results table holds: the event row keeps none.
func appendEvent(t *txn, r *jobRow, typ string, turn *int, data []byte) error {
	var id int64
	if err := t.queryRow("UPDATE jobs SET next_event = next_event + 1 WHERE seq = ? RETURNING next_event", r.seq).Scan(&id); err != nil {
		return err
	}
	return recordEvent(t, r, id, typ, turn, data)
}

// recordEvent writes the event with the id taken from the job's next_event.
func recordEvent(t *txn, r *jobRow, id int64, typ string, turn *int, data []byte) error {
	stored := data
	if typ == EventTurn {
		stored = nil
	} else if stored == nil {
		stored = []byte{}
	}
	if _, err := t.exec("INSERT INTO events (job_seq, id, type, turn, data) VALUES (?, ?, ?, ?, ?)",
		r.seq, id, typ, turn, stored); err != nil {
		return err
	}
	t.wakeJobs = append(t.wakeJobs, r.job.ID)
	t.appended = append(t.appended, appended{jobID: r.job.ID,
		ev: tailEvent{id: id, ev: Event{ID: strconv.FormatInt(id, 10), Type: typ, Data: slices.Clone(data)}}})
	if typ == EventTurn {
		return nil
	}
	return addBytes(t, r, int64(len(data)))
}

func (s *SQLite) Publish(ctx context.Context, l *Lease, typ string, data []byte) error {
	if typ == "" {
		return fmt.Errorf("queue: publish: %w: no event type", ErrInvalid)
	}
	return s.fenced(ctx, l, "publish", func(t *txn, r *jobRow) error {
		if typ != EventPartial {
			return appendEvent(t, r, typ, nil, data)
		}
		turn := partialTurn(data)
		var done bool
		if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM results WHERE job_seq = ? AND turn = ?)", r.seq, turn).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil // the turn's result is there: a report of its search is stale
		}
		freed, err := dropPartials(t, r.seq, "AND turn = ?", turn)
		if err != nil {
			return err
		}
		if err := addBytes(t, r, -freed); err != nil {
			return err
		}
		return appendEvent(t, r, EventPartial, &turn, data)
	})
}

func (s *SQLite) Complete(ctx context.Context, l *Lease) error {
	return s.fenced(ctx, l, "complete", func(t *txn, r *jobRow) error {
		if r.nresults < len(r.job.Turns) {
			return fmt.Errorf("%w: job %s has %d of %d turns", ErrIncomplete, r.job.ID, r.nresults, len(r.job.Turns))
		}
		return s.finish(t, r, StateDone)
	})
}

func (s *SQLite) Fail(ctx context.Context, l *Lease, msg string, retry bool) error {
	return s.fenced(ctx, l, "fail", func(t *txn, r *jobRow) error {
		return s.attemptFailed(t, r, msg, retry)
	})
}

func (s *SQLite) Release(ctx context.Context, l *Lease) error {
	return s.fenced(ctx, l, "release", func(t *txn, r *jobRow) error {
		t.wakeClaim = true
		_, err := t.exec("UPDATE jobs SET state = 'queued', worker_id = '' WHERE seq = ?", r.seq)
		return err
	})
}

func (s *SQLite) Cancel(ctx context.Context, jobID string) error {
	return s.do(ctx, "cancel", func(t *txn) error {
		r, err := t.byID(jobID)
		if err != nil {
			return err
		}
		if r.job.State.Final() {
			return fmt.Errorf("%w: job %s is %s", ErrFinal, jobID, r.job.State)
		}
		return s.finish(t, r, StateCancelled)
	})
}

// attemptFailed counts a failed attempt of a running job: back in line while attempts
// remain and retry is allowed, else failed.
func (s *SQLite) attemptFailed(t *txn, r *jobRow, msg string, retry bool) error {
	r.job.Attempts++
	r.job.Error = msg
	if retry && r.job.Attempts < r.job.MaxAttempts {
		if _, err := t.exec("UPDATE jobs SET state = 'queued', worker_id = '', attempts = ?, error = ? WHERE seq = ?",
			r.job.Attempts, msg, r.seq); err != nil {
			return err
		}
		t.wakeClaim = true
		return appendState(t, r, StateQueued, EventRetry)
	}
	s.log.Warn("job dead-lettered", "job_id", r.job.ID, "attempts", r.job.Attempts, "err", msg)
	if _, err := t.exec("UPDATE jobs SET attempts = ?, error = ? WHERE seq = ?", r.job.Attempts, msg, r.seq); err != nil {
		return err
	}
	return s.finish(t, r, StateFailed)
}

// finish moves a job to a final state, drops its partial events and appends the state's
// event.
func (s *SQLite) finish(t *txn, r *jobRow, st State) error {
	if _, err := t.exec("UPDATE jobs SET state = ?, worker_id = '', finished_at = ? WHERE seq = ?",
		st, t.now, r.seq); err != nil {
		return err
	}
	if _, err := t.exec("UPDATE finished SET jobs = jobs + 1 WHERE state = ?", st); err != nil {
		return err
	}
	freed, err := dropPartials(t, r.seq, "")
	if err != nil {
		return err
	}
	if err := addBytes(t, r, -freed); err != nil {
		return err
	}
	t.kick = true
	typ := map[State]string{StateDone: EventDone, StateFailed: EventFailed, StateCancelled: EventCancelled}[st]
	return appendState(t, r, st, typ)
}

func appendState(t *txn, r *jobRow, st State, typ string) error {
	data, _ := json.Marshal(StateEvent{State: st, Attempts: r.job.Attempts, Error: errorFor(st, r.job.Error)})
	return appendEvent(t, r, typ, nil, data)
}

// errorFor is the error a state event carries: the last one, for failed and retried jobs.
func errorFor(st State, msg string) string {
	if st == StateFailed || st == StateQueued {
		return msg
	}
	return ""
}

func (s *SQLite) Get(ctx context.Context, jobID string) (*Job, error) {
	var out *Job
	err := s.read(ctx, "get", func(t *txn) error {
		r, err := t.byID(jobID)
		if err != nil {
			return err
		}
		out = &r.job
		return nil
	})
	return out, err
}

// seqOf returns the job's seq, or ErrNotFound.
func (t *txn) seqOf(jobID string) (int64, error) {
	var seq int64
	err := t.queryRow("SELECT seq FROM jobs WHERE id = ?", jobID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound(jobID)
	}
	return seq, err
}

func (s *SQLite) Results(ctx context.Context, jobID string) (map[int][]byte, error) {
	out := map[int][]byte{}
	err := s.read(ctx, "results", func(t *txn) error {
		seq, err := t.seqOf(jobID)
		if err != nil {
			return err
		}
		rows, err := t.query("SELECT turn, data FROM results WHERE job_seq = ?", seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var turn int
			var data []byte
			if err := rows.Scan(&turn, &data); err != nil {
				return err
			}
			out[turn] = data
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *SQLite) Events(ctx context.Context, jobID, afterID string, limit int, wait time.Duration) ([]Event, error) {
	var after int64
	if afterID != "" {
		n, err := strconv.ParseInt(afterID, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("queue: events: %w: event id %q", ErrInvalid, afterID)
		}
		after = n
	}
	if limit <= 0 {
		limit = -1
	}
	current, stop := s.watchJob(jobID)
	defer stop()
	var timeout <-chan time.Time
	for {
		appended := current()
		if evs, ok := s.fromTail(jobID, after, limit); ok && len(evs) > 0 {
			return evs, nil
		}
		out, err := s.events(ctx, jobID, after, limit)
		if err != nil || len(out) > 0 || wait <= 0 {
			return out, err
		}
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, ErrClosed
		case <-timeout:
			return nil, nil
		case <-appended:
		}
	}
}

// events reads the job's events after an id, in one query that also tells a missing job.
func (s *SQLite) events(ctx context.Context, jobID string, after int64, limit int) ([]Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	st, err := s.rstmts.get(ctx, `SELECT e.id, coalesce(e.type, ''), coalesce(e.data, r.data, '') FROM jobs j
		LEFT JOIN events e ON e.job_seq = j.seq AND e.id > ?
		LEFT JOIN results r ON e.type = 'turn' AND r.job_seq = j.seq AND r.turn = e.turn
		WHERE j.id = ? ORDER BY e.id LIMIT ?`)
	if err != nil {
		return nil, s.fail("events", err)
	}
	rows, err := st.QueryContext(ctx, after, jobID, limit)
	if err != nil {
		return nil, s.fail("events", err)
	}
	defer rows.Close()
	found := false
	var out []Event
	for rows.Next() {
		found = true
		var id sql.NullInt64
		var e Event
		if err := rows.Scan(&id, &e.Type, &e.Data); err != nil {
			return nil, s.fail("events", err)
		}
		if !id.Valid {
			continue // the job, without events after the id
		}
		e.ID = strconv.FormatInt(id.Int64, 10)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("events", err)
	}
	if !found {
		return nil, fmt.Errorf("queue: events: %w", notFound(jobID))
	}
	return out, nil
}

func (s *SQLite) RegisterWorker(ctx context.Context, info WorkerInfo) error {
	if info.ID == "" {
		return fmt.Errorf("queue: register worker: %w: no worker id", ErrInvalid)
	}
	return s.do(ctx, "register worker", func(t *txn) error {
		info.LastSeen = unixNano(t.now)
		data, err := json.Marshal(info)
		if err != nil {
			return err
		}
		t.kick = true
		_, err = t.exec(`INSERT INTO workers (id, info, last_seen) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET info = excluded.info, last_seen = excluded.last_seen`, info.ID, data, t.now)
		return err
	})
}

func (s *SQLite) RemoveWorker(ctx context.Context, workerID string) error {
	return s.do(ctx, "remove worker", func(t *txn) error {
		_, err := t.exec("DELETE FROM workers WHERE id = ?", workerID)
		return err
	})
}

func (s *SQLite) Workers(ctx context.Context) ([]WorkerInfo, error) {
	out := []WorkerInfo{}
	err := s.read(ctx, "workers", func(t *txn) error {
		rows, err := t.query("SELECT info FROM workers WHERE last_seen > ? ORDER BY id",
			t.now-s.cfg.RegistryTTL.Nanoseconds())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data []byte
			var w WorkerInfo
			if err := rows.Scan(&data); err != nil {
				return err
			}
			if err := json.Unmarshal(data, &w); err != nil {
				return fmt.Errorf("worker entry: %w", err)
			}
			out = append(out, w)
		}
		return rows.Err()
	})
	return out, err
}

func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Queued: map[Priority]int{PriorityReview: 0, PriorityInteractive: 0},
		Finished: map[State]int64{StateDone: 0, StateFailed: 0, StateCancelled: 0}}
	err := s.read(ctx, "stats", func(t *txn) error {
		fin, err := t.query("SELECT state, jobs FROM finished")
		if err != nil {
			return err
		}
		defer fin.Close()
		for fin.Next() {
			var state State
			var n int64
			if err := fin.Scan(&state, &n); err != nil {
				return err
			}
			st.Finished[state] = n
		}
		if err := fin.Err(); err != nil {
			return err
		}
		rows, err := t.query(`SELECT state, priority, positions, nturns, nresults, created_at
			FROM jobs WHERE state IN ('queued', 'running')`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var state State
			var prio Priority
			var positions, created int64
			var nturns, nresults int
			if err := rows.Scan(&state, &prio, &positions, &nturns, &nresults, &created); err != nil {
				return err
			}
			st.PositionsWaiting += positionsLeft(positions, nturns, nresults)
			if state == StateRunning {
				st.Running++
				continue
			}
			st.Queued[prio]++
			if c := unixNano(created); st.OldestQueued.IsZero() || c.Before(st.OldestQueued) {
				st.OldestQueued = c
			}
		}
		return rows.Err()
	})
	return st, err
}

func (s *SQLite) List(ctx context.Context, f ListFilter) ([]*Job, string, error) {
	limit := listLimit(f.Limit)
	where := []string{"owner = ?"}
	args := []any{f.Owner}
	if f.Player != "" {
		where = append(where, "instr(players, ?) > 0")
		args = append(args, strings.ToLower(f.Player))
	}
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, f.Until.UnixNano())
	}
	if f.Cursor != "" {
		created, seq, ok := parseSQLiteCursor(f.Cursor)
		if !ok {
			return nil, "", fmt.Errorf("queue: list: %w: cursor %q", ErrInvalid, f.Cursor)
		}
		where = append(where, "(created_at, seq) < (?, ?)")
		args = append(args, created, seq)
	}
	args = append(args, limit+1)
	var out []*Job
	next := ""
	err := s.read(ctx, "list", func(t *txn) error {
		rows, err := t.query("SELECT "+jobColumns("NULL")+" FROM jobs WHERE "+strings.Join(where, " AND ")+
			" ORDER BY created_at DESC, seq DESC LIMIT ?", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last *jobRow
		for rows.Next() {
			r, err := scanRow(rows)
			if err != nil {
				return err
			}
			if len(out) == limit {
				next = fmt.Sprintf("%d.%d", last.job.CreatedAt.UnixNano(), last.seq)
				break
			}
			out = append(out, &r.job)
			last = r
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func listLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}

func parseSQLiteCursor(c string) (created, seq int64, ok bool) {
	a, b, found := strings.Cut(c, ".")
	if !found {
		return 0, 0, false
	}
	created, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	return created, seq, err1 == nil && err2 == nil
}

func (s *SQLite) Delete(ctx context.Context, jobID string) error {
	return s.do(ctx, "delete", func(t *txn) error {
		r, err := t.byID(jobID)
		if err != nil {
			return err
		}
		if !r.job.State.Final() {
			return fmt.Errorf("%w: job %s is %s", ErrNotFinal, jobID, r.job.State)
		}
		return deleteJob(t, r)
	})
}

// deleteJob removes the job's row, results and events, and gives back its usage.
func deleteJob(t *txn, r *jobRow) error {
	t.wakeJobs = append(t.wakeJobs, r.job.ID)
	t.deleted = append(t.deleted, r.job.ID)
	for _, stmt := range []string{
		"DELETE FROM results WHERE job_seq = ?",
		"DELETE FROM events WHERE job_seq = ?",
		"DELETE FROM jobs WHERE seq = ?",
	} {
		if _, err := t.exec(stmt, r.seq); err != nil {
			return err
		}
	}
	_, err := t.exec("UPDATE owners SET jobs = jobs - 1, bytes = bytes - ? WHERE owner = ?", r.bytes, r.job.Owner)
	return err
}

// sweep expires leases, retained jobs and worker entries whose time has come, and
// returns the next deadline (zero when there is none).
func (s *SQLite) sweep(ctx context.Context) (time.Time, error) {
	var next int64
	soonest := func(ns int64) {
		if ns > 0 && (next == 0 || ns < next) {
			next = ns
		}
	}
	err := s.do(ctx, "sweep", func(t *txn) error {
		if err := s.expireLeases(t); err != nil {
			return err
		}
		if ret := s.cfg.Retention.Nanoseconds(); ret > 0 {
			for {
				old, err := t.rows("finished_at > 0 AND finished_at <= ? LIMIT 100", t.now-ret)
				if err != nil {
					return err
				}
				for _, r := range old {
					if err := deleteJob(t, r); err != nil {
						return err
					}
				}
				if len(old) == 0 {
					break
				}
			}
			var oldest sql.NullInt64
			if err := t.queryRow("SELECT min(finished_at) FROM jobs WHERE finished_at > 0").Scan(&oldest); err != nil {
				return err
			}
			if oldest.Valid {
				soonest(oldest.Int64 + ret)
			}
		}
		ttl := s.cfg.RegistryTTL.Nanoseconds()
		if _, err := t.exec("DELETE FROM workers WHERE last_seen <= ?", t.now-ttl); err != nil {
			return err
		}
		var lease, seen sql.NullInt64
		if err := t.queryRow("SELECT min(lease_exp) FROM jobs WHERE state = 'running'").Scan(&lease); err != nil {
			return err
		}
		if err := t.queryRow("SELECT min(last_seen) FROM workers").Scan(&seen); err != nil {
			return err
		}
		if lease.Valid {
			soonest(lease.Int64)
		}
		if seen.Valid {
			soonest(seen.Int64 + ttl)
		}
		return nil
	})
	return unixNano(next), err
}

func (s *SQLite) kickSweeper() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// sweeper applies deadlines nobody calls in for: an expired lease while no worker claims
// (so the job's retry event reaches its watchers, and claimers wake), a retention period.
func (s *SQLite) sweeper() {
	defer close(s.swept)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, err := s.sweep(ctx)
		if err != nil {
			if s.closed.Load() {
				return
			}
			s.log.Warn("sweep failed", "err", err)
			next = time.Now().Add(time.Second)
		}
		timer.Stop()
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-s.done:
			return
		case <-s.kick:
		case <-fire:
		}
	}
}
