package queue_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// TestSQLiteOpenRefuses: every file or directory the store cannot use is refused with one
// line that names the path and says what to do; nothing panics, and nothing opens in its
// place.
func TestSQLiteOpenRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"foreign file", func(t *testing.T, path string) {
			write(t, path, []byte("# my notes\nnot a database at all\n"))
		}, "not a tesuji database"},
		{"corrupt database", func(t *testing.T, path string) {
			write(t, path, append([]byte("SQLite format 3\x00"), []byte(strings.Repeat("\xff\x00garbage", 1000))...))
		}, "corrupt"},
		{"another program's database", func(t *testing.T, path string) {
			write(t, path, nil)
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)"); err != nil {
				t.Fatal(err)
			}
		}, "another program"},
		{"directory in the way", func(t *testing.T, path string) {
			write(t, filepath.Dir(path), []byte("a file where the data directory should be"))
		}, "give --data"},
		{"in use", func(t *testing.T, path string) {
			q, err := queue.OpenSQLite(context.Background(), queue.SQLiteConfig{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { q.Close() })
		}, "in use by another tesuji serve"},
		{"read-only directory", func(t *testing.T, path string) {
			dir := filepath.Dir(path)
			if err := os.MkdirAll(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
			if os.Geteuid() == 0 {
				// Permission bits do not bind root; the immutable attribute does.
				if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
					t.Skipf("root writes into read-only directories, and chattr +i failed: %v: %s", err, out)
				}
				t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
			}
		}, "writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "data", "tesuji.db")
			tt.setup(t, path)
			q, err := queue.OpenSQLite(context.Background(), queue.SQLiteConfig{Path: path})
			if err == nil {
				q.Close()
				t.Fatal("the store opened")
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Dir(path)) || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line naming the path and saying %q", msg, tt.want)
			}
		})
	}
}

// write writes a file, making its directory.
func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteFullDisk: when the file cannot grow, a write fails with ErrUnavailable and
// changes nothing; what was stored before stays whole, and writes work again once there
// is room.
func TestSQLiteFullDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	kept, _, err := q.Enqueue(ctx, &queue.Job{Owner: "alice", Payload: []byte(`{"game":1}`), Turns: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := q.DB().QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The store's writer is one connection: this caps the file at its size now, as a
	// full disk would.
	if _, err := q.DB().Exec("PRAGMA max_page_count = " + strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	big := []byte(`"` + strings.Repeat("x", 1<<20) + `"`)
	_, _, err = q.Enqueue(ctx, &queue.Job{Owner: "alice", Payload: big})
	if !errors.Is(err, queue.ErrUnavailable) {
		t.Fatalf("Enqueue on a full disk: %v, want ErrUnavailable", err)
	}
	got, err := q.Get(ctx, kept.ID)
	if err != nil || string(got.Payload) != `{"game":1}` || got.State != queue.StateQueued {
		t.Fatalf("the job stored before: %+v, %v", got, err)
	}
	if jobs, _, err := q.List(ctx, queue.ListFilter{Owner: "alice"}); err != nil || len(jobs) != 1 {
		t.Errorf("List after the failed write: %d jobs, %v; want the one stored before", len(jobs), err)
	}
	if _, err := q.DB().Exec("PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Enqueue(ctx, &queue.Job{Owner: "alice", Payload: big}); err != nil {
		t.Errorf("Enqueue once there is room: %v", err)
	}
}

// TestSQLiteReopenResumes: a store opened again after its process died with a job running
// hands that job out again at once, counting the lost attempt, with the turns stored before
// kept and the event log continuing where it stopped.
func TestSQLiteReopenResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tesuji.db")
	q, err := queue.OpenSQLite(ctx, queue.SQLiteConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := q.Enqueue(ctx, &queue.Job{Turns: []int{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	_, l, err := q.Claim(ctx, "w1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.StoreResult(ctx, l, 0, []byte(`"r0"`)); err != nil {
		t.Fatal(err)
	}
	q.Close() // as far as the file knows, the process died: the lease still runs for an hour

	q, err = queue.OpenSQLite(ctx, queue.SQLiteConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, l2, err := q.Claim(cctx, "w2", time.Hour)
	if err != nil {
		t.Fatalf("Claim after the reopen: %v", err)
	}
	if c.ID != j.ID || c.Attempts != 1 || l2.Token <= l.Token {
		t.Errorf("claimed %+v (token %d), want %s again after one lost attempt", c, l2.Token, j.ID)
	}
	rs, err := q.Results(ctx, j.ID)
	if err != nil || len(rs) != 1 || string(rs[0]) != `"r0"` {
		t.Errorf("results after the reopen: %v, %v; want turn 0's", rs, err)
	}
	evs, err := q.Events(ctx, j.ID, "1", 0, 0)
	if err != nil || len(evs) != 1 || evs[0].Type != queue.EventRetry {
		t.Errorf("events after the turn event: %v, %v; want the retry", evs, err)
	}
}
