package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The review library, the owner caps and the bounds on partial events of the Redis queue;
// the keys are described in keys.go.

// libraryAddScript admits a new job to its owner's library unless a cap refuses it. KEYS:
// keys.libraryKeys, the reply key (keys.globalReply). ARGV: job id, size, max jobs, max
// bytes (<= 0: no cap). Returns {ok}, {exists} or {limit, jobs or bytes, used}; a resent
// call gets the reply of the one that ran.
var libraryAddScript = redis.NewScript(luaOnce + `
return once(KEYS[5], function()
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {'exists'} end
local jobs = tonumber(redis.call('HGET', KEYS[3], 'jobs') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
local size, maxj, maxb = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if maxj > 0 and jobs + 1 > maxj then return {'limit', 'jobs', jobs} end
if maxb > 0 and bytes + size > maxb then return {'limit', 'bytes', bytes} end
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[4]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], size)
redis.call('HINCRBY', KEYS[3], 'jobs', 1)
redis.call('HINCRBY', KEYS[3], 'bytes', size)
return {'ok'}, true
end)
`)

// libraryRemoveScript takes jobs out of their owner's library and gives back what they
// held. KEYS: keys.libraryKeys. ARGV: job ids. Returns {ok}.
var libraryRemoveScript = redis.NewScript(`
for _, id in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local size = tonumber(redis.call('HGET', KEYS[2], id) or '0')
    redis.call('HDEL', KEYS[2], id)
    redis.call('HINCRBY', KEYS[3], 'jobs', -1)
    redis.call('HINCRBY', KEYS[3], 'bytes', string.format('%d', -size))
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[2], KEYS[3]) end
return {'ok'}
`)

// deleteScript deletes a final job's keys. Returns {ok, owner}, {notfinal, state} or
// {missing}. KEYS: the job's keys, the reply key: a resent call gets the reply of the
// one that ran.
var deleteScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local st, owner = unpack(redis.call('HMGET', rec, 'state', 'owner'))
  if not st then return {'missing'} end
  if st == 'queued' or st == 'running' then return {'notfinal', st} end
  redis.call('DEL', rec, results, events)
  return {'ok', owner or ''}, true
end)
`)

// publishPartialScript appends a partial event, fenced, in place of the turn's previous
// one, and drops it when the turn already has its result. ARGV: token, turn, data.
var publishPartialScript = redis.NewScript(luaJob + `
local why = fence(ARGV[1], now_ms())
if why then return {why} end
if redis.call('HEXISTS', results, ARGV[2]) == 1 then return {'ok'} end
local field = 'p:' .. ARGV[2]
local old = redis.call('HGET', rec, field)
if old then redis.call('XDEL', events, old) end
local id = redis.call('XADD', events, '*', 't', 'partial', 'd', ARGV[3])
redis.call('HSET', rec, field, id)
return {'ok'}
`)

// publishPartial is Publish of a partial report.
func (r *Redis) publishPartial(ctx context.Context, l *Lease, data []byte) error {
	res, err := r.run(ctx, publishPartialScript, r.k.jobKeys(l.JobID), l.Token, partialTurn(data), data)
	if err != nil {
		return fmt.Errorf("queue: publish: %w", err)
	}
	return fenced("publish", l.JobID, res)
}

// admit adds a new job to its owner's library, within the caps; when a cap refuses it,
// the owner's expired jobs are let go and the cap is asked once more.
func (r *Redis) admit(ctx context.Context, owner, id string, size int64) error {
	for attempt := 0; ; attempt++ {
		res, err := r.run(ctx, libraryAddScript, append(r.k.libraryKeys(owner), r.k.globalReply(newID())), id, size,
			r.cfg.MaxOwnerJobs, r.cfg.MaxOwnerBytes)
		if err != nil {
			return err
		}
		switch str(res[0]) {
		case "ok":
			return nil
		case "exists":
			return fmt.Errorf("%w: job id %s is taken", ErrInvalid, id)
		}
		if attempt > 0 {
			limit := str(res[1])
			e := &OwnerLimitError{Owner: owner, Limit: limit, Used: num(res[2]), Max: int64(r.cfg.MaxOwnerJobs), Need: 1}
			if limit == LimitBytes {
				e.Max, e.Need = r.cfg.MaxOwnerBytes, size
			}
			return e
		}
		if err := r.pruneLibrary(ctx, owner); err != nil {
			return err
		}
	}
}

// forget takes jobs out of their owner's library.
func (r *Redis) forget(ctx context.Context, owner string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	_, err := r.run(ctx, libraryRemoveScript, r.k.libraryKeys(owner), args...)
	return err
}

// pruneLibrary forgets the owner's jobs whose records have expired.
func (r *Redis) pruneLibrary(ctx context.Context, owner string) error {
	ids, err := r.c.ZRange(ctx, r.k.ownerJobs(owner), 0, -1).Result()
	if err != nil {
		return err
	}
	exists := make([]*redis.IntCmd, len(ids))
	_, err = r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			exists[i] = p.Exists(ctx, r.k.job(id))
		}
		return nil
	})
	if err != nil {
		return err
	}
	var gone []string
	for i, id := range ids {
		if exists[i].Val() == 0 {
			gone = append(gone, id)
		}
	}
	return r.forget(ctx, owner, gone...)
}

// listFields are the record fields List reads: all but the payload.
var listFields = []string{"id", "owner", "prio", "dkey", "turns", "pos", "max", "black", "white", "meta",
	"state", "att", "err", "worker", "created", "started", "finished"}

func (r *Redis) List(ctx context.Context, f ListFilter) ([]*Job, string, error) {
	if err := r.check(ctx); err != nil {
		return nil, "", err
	}
	limit := listLimit(f.Limit)
	maxScore, afterID := "+inf", ""
	if f.Cursor != "" {
		score, id, ok := strings.Cut(f.Cursor, ":")
		if _, err := strconv.ParseInt(score, 10, 64); !ok || err != nil || id == "" {
			return nil, "", fmt.Errorf("queue: list: %w: cursor %q", ErrInvalid, f.Cursor)
		}
		maxScore, afterID = score, id
	}
	player := strings.ToLower(f.Player)
	var out []*Job
	var gone []string
	next, lastScore := "", ""
	const batch = 200
	// Each batch goes on below the last entry read, not at an offset: entries that come
	// or go between batches would shift an offset, and a job would be listed twice or
	// not at all.
	for next == "" {
		entries, err := r.c.ZRevRangeByScoreWithScores(ctx, r.k.ownerJobs(f.Owner), &redis.ZRangeBy{
			Max: maxScore, Min: "-inf", Count: batch}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("queue: list: %w", err)
		}
		recs := make([]*redis.SliceCmd, len(entries))
		_, err = r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, e := range entries {
				recs[i] = p.HMGet(ctx, r.k.job(e.Member.(string)), listFields...)
			}
			return nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("queue: list: %w", err)
		}
		for i, e := range entries {
			id := e.Member.(string)
			score := strconv.FormatFloat(e.Score, 'f', 0, 64)
			if afterID != "" && score == maxScore && id >= afterID {
				continue // at or before the cursor, or the last entry of the batch before, on its score
			}
			vals := recs[i].Val()
			if vals[0] == nil {
				gone = append(gone, id)
				continue
			}
			m := make(map[string]string, len(listFields))
			for k, name := range listFields {
				m[name], _ = vals[k].(string)
			}
			j, err := decodeJob(m)
			if err != nil {
				return nil, "", fmt.Errorf("queue: list: %w", err)
			}
			if !listed(j, f, player) {
				continue
			}
			if len(out) == limit {
				next = lastScore + ":" + out[len(out)-1].ID
				break
			}
			out = append(out, j)
			lastScore = score
		}
		if len(entries) < batch {
			break
		}
		last := entries[len(entries)-1]
		maxScore, afterID = strconv.FormatFloat(last.Score, 'f', 0, 64), last.Member.(string)
	}
	if err := r.forget(ctx, f.Owner, gone...); err != nil {
		r.log.Warn("forget expired jobs of the library", "err", err)
	}
	return out, next, nil
}

// listed reports whether a job passes a filter's conditions other than the owner; player
// is the filter's player, lower-cased.
func listed(j *Job, f ListFilter, player string) bool {
	if player != "" && !strings.Contains(players(j.Black, j.White), player) {
		return false
	}
	if len(f.States) > 0 && !hasState(f.States, j.State) {
		return false
	}
	if !f.Since.IsZero() && j.CreatedAt.Before(f.Since) {
		return false
	}
	return f.Until.IsZero() || j.CreatedAt.Before(f.Until)
}

func hasState(states []State, st State) bool {
	for _, s := range states {
		if s == st {
			return true
		}
	}
	return false
}

func (r *Redis) Delete(ctx context.Context, jobID string) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	res, err := r.run(ctx, deleteScript, r.k.callKeys(jobID, newID()))
	if err != nil {
		return fmt.Errorf("queue: delete: %w", err)
	}
	switch str(res[0]) {
	case "missing":
		return fmt.Errorf("queue: delete: %w", notFound(jobID))
	case "notfinal":
		return fmt.Errorf("queue: delete: %w: job %s is %s", ErrNotFinal, jobID, str(res[1]))
	}
	if err := r.forget(ctx, str(res[1]), jobID); err != nil {
		return fmt.Errorf("queue: delete: %w", err)
	}
	return nil
}
