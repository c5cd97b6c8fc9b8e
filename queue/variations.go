package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// The variations a player made on a review are kept beside the job as one opaque value:
// the queue neither reads nor limits them, and they live and expire with the job's record.

func (s *SQLite) SaveVariations(ctx context.Context, jobID string, data []byte) error {
	if data == nil {
		data = []byte{} // NULL is "none saved"
	}
	return s.do(ctx, "save variations", func(t *txn) error {
		res, err := t.exec("UPDATE jobs SET vars = ? WHERE id = ?", data, jobID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound(jobID)
		}
		return nil
	})
}

func (s *SQLite) Variations(ctx context.Context, jobID string) ([]byte, error) {
	var out []byte
	err := s.read(ctx, "variations", func(t *txn) error {
		var vars []byte
		var saved bool
		err := t.queryRow("SELECT vars, vars IS NOT NULL FROM jobs WHERE id = ?", jobID).Scan(&vars, &saved)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(jobID)
		}
		if err != nil {
			return err
		}
		if saved {
			out = append([]byte{}, vars...)
		}
		return nil
	})
	return out, err
}

// saveVarsScript stores the vars field of a record that exists. ARGV: the bytes.
var saveVarsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'vars', ARGV[1])
return 1
`)

func (r *Redis) SaveVariations(ctx context.Context, jobID string, data []byte) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	n, err := saveVarsScript.Run(ctx, r.c, []string{r.k.job(jobID)}, data).Int()
	if err != nil {
		return fmt.Errorf("queue: save variations: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("queue: save variations: %w", notFound(jobID))
	}
	return nil
}

func (r *Redis) Variations(ctx context.Context, jobID string) ([]byte, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	v, err := r.c.HMGet(ctx, r.k.job(jobID), "state", "vars").Result()
	if err != nil {
		return nil, fmt.Errorf("queue: variations: %w", err)
	}
	if v[0] == nil {
		return nil, fmt.Errorf("queue: variations: %w", notFound(jobID))
	}
	if v[1] == nil {
		return nil, nil
	}
	s, ok := v[1].(string)
	if !ok {
		return nil, fmt.Errorf("queue: variations: %w", errors.New("vars is not a string"))
	}
	return []byte(s), nil
}
