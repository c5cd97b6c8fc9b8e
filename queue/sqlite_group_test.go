package queue

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSQLiteGroupCommit: changes that share one transaction keep their own effects and
// errors. A change that fails undoes itself alone and wakes no one; when the shared
// transaction is lost, every change of the group fails and none of them stays.
func TestSQLiteGroupCommit(t *testing.T) {
	t.Parallel()
	errOp := errors.New("op failed")
	insert := func(v string) func(t *txn) error {
		return func(t *txn) error {
			_, err := t.exec("INSERT INTO scratch (v) VALUES (?)", v)
			return err
		}
	}
	tests := []struct {
		name     string
		ops      []func(t *txn) error
		wantErrs []bool
		wantRows []string
	}{
		{"all succeed", []func(t *txn) error{insert("a"), insert("b"), insert("c")},
			[]bool{false, false, false}, []string{"a", "b", "c"}},
		{"one fails", []func(t *txn) error{insert("a"), func(t *txn) error {
			if err := insert("b")(t); err != nil {
				return err
			}
			t.wakeClaim = true
			return errOp
		}, insert("c")}, []bool{false, true, false}, []string{"a", "c"}},
		{"alone and failing", []func(t *txn) error{func(t *txn) error {
			if err := insert("a")(t); err != nil {
				return err
			}
			t.wakeClaim = true
			return errOp
		}}, []bool{true}, nil},
		{"the transaction is lost", []func(t *txn) error{insert("a"), func(t *txn) error {
			if _, err := t.ExecContext(t.ctx, "ROLLBACK"); err != nil {
				return err
			}
			return errOp
		}, insert("c")}, []bool{true, true, true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := OpenSQLite(ctx, SQLiteConfig{Path: filepath.Join(t.TempDir(), "tesuji.db")})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.db.ExecContext(ctx, "CREATE TABLE scratch (v TEXT)"); err != nil {
				t.Fatal(err)
			}
			changed := s.claimChanged()
			group := make([]*writeOp, len(tt.ops))
			for i, fn := range tt.ops {
				group[i] = &writeOp{ctx: ctx, op: "test", fn: fn, done: make(chan struct{})}
			}
			s.writing <- struct{}{}
			s.commitGroup(group)
			<-s.writing
			var gotErrs []bool
			for _, w := range group {
				<-w.done
				gotErrs = append(gotErrs, w.err != nil)
			}
			if diff := cmp.Diff(tt.wantErrs, gotErrs); diff != "" {
				t.Errorf("failed changes (-want +got):\n%s", diff)
			}
			rows, err := s.db.QueryContext(ctx, "SELECT v FROM scratch ORDER BY v")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantRows, got); diff != "" {
				t.Errorf("rows stored (-want +got):\n%s", diff)
			}
			select {
			case <-changed:
				t.Error("a failed change woke the claimers")
			default:
			}
		})
	}
}
