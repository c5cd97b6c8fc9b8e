package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// The variations a player made on a review are kept beside the job as one opaque value:
// the queue neither reads nor limits them, and they live and expire with the job's record.

func (m *Memory) SaveVariations(ctx context.Context, jobID string, data []byte) error {
	if _, err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	j := m.jobs[jobID]
	if j == nil {
		return fmt.Errorf("queue: save variations: %w", notFound(jobID))
	}
	j.vars = slices.Clone(data)
	return nil
}

func (m *Memory) Variations(ctx context.Context, jobID string) ([]byte, error) {
	if _, err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	j := m.jobs[jobID]
	if j == nil {
		return nil, fmt.Errorf("queue: variations: %w", notFound(jobID))
	}
	return slices.Clone(j.vars), nil
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
