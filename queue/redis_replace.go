package queue

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// replaceScript makes a turn's result ARGV[3] and appends its event, unless the stored
// result is already ARGV[3]. KEYS: the job's keys, the reply key. ARGV: token, turn, result.
// Returns {ok, 1 replaced / 0 unchanged}, {invalid}, {lost} or {cancelled}; a resent call
// gets its first reply (luaOnce), even once the lease is gone.
var replaceScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local why = fence_turn(ARGV[1], ARGV[2])
  if why then return {why} end
  if redis.call('HGET', results, ARGV[2]) == ARGV[3] then return {'ok', 0} end
  redis.call('HSET', results, ARGV[2], ARGV[3])
  drop_partial(ARGV[2])
  event('turn', ARGV[3])
  return {'ok', 1}, true
end)
`)

func (r *Redis) ReplaceResult(ctx context.Context, l *Lease, turn int, result []byte) error {
	if l == nil {
		return fmt.Errorf("queue: replace result: %w: no lease", ErrInvalid)
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	res, err := r.run(ctx, replaceScript, r.k.callKeys(l.JobID, newID()), l.Token, turn, result)
	if err != nil {
		return fmt.Errorf("queue: replace result: %w", err)
	}
	if err := fenced("replace result", l.JobID, res); err != nil {
		return err
	}
	if str(res[0]) == "invalid" {
		return fmt.Errorf("queue: replace result: %w: job %s has no turn %d", ErrInvalid, l.JobID, turn)
	}
	return nil
}
