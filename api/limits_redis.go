package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/queue"
)

// RedisLimits is a LimitStore in Redis, so every API server of a deployment counts the
// same usage. The layout is in queue/keys.go; each call is one script on the owner's slot.
type RedisLimits struct {
	rdb  redis.UniversalClient
	keys queue.APIKeys
}

// NewRedisLimits returns the store in rdb under prefix ("" means "tesuji").
func NewRedisLimits(rdb redis.UniversalClient, prefix string) *RedisLimits {
	return &RedisLimits{rdb: rdb, keys: queue.NewAPIKeys(prefix)}
}

// replyTTL is how long a charge is remembered for a resend of its call: longer than a
// client goes on resending a command (go-redis: its retries, each up to a read timeout).
const replyTTL = 2 * time.Minute

// chargeScript: KEYS[1] use hash, KEYS[2] the call's reply key; ARGV minute, n, quota.
// Returns -1 when charged, else the minute from which the charge fits. A charge is
// remembered under the call's reply key, so a resent call (a client that lost the reply
// sends it again) is answered as charged without charging twice.
var chargeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local quota = tonumber(ARGV[3])
local h = redis.call('HGETALL', KEYS[1])
local used = 0
local buckets = {}
for i = 1, #h, 2 do
  local m = tonumber(h[i])
  local c = tonumber(h[i + 1])
  if m <= now - 60 then
    redis.call('HDEL', KEYS[1], h[i])
  else
    used = used + c
    buckets[#buckets + 1] = {m, c}
  end
end
if used + n <= quota then
  redis.call('HINCRBY', KEYS[1], ARGV[1], n)
  redis.call('EXPIRE', KEYS[1], 3660)
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[4])
  return -1
end
table.sort(buckets, function(a, b) return a[1] < b[1] end)
for _, b in ipairs(buckets) do
  used = used - b[2]
  if used + n <= quota then return b[1] + 60 end
end
return now + 60
`)

// Charge implements LimitStore.
func (s *RedisLimits) Charge(ctx context.Context, owner string, n, quota int64, now time.Time) (bool, time.Time, error) {
	minute := now.Unix() / 60
	keys := []string{s.keys.Use(owner), s.keys.Reply(owner, rand.Text())}
	m, err := chargeScript.Run(ctx, s.rdb, keys, minute, n, quota, replyTTL.Milliseconds()).Int64()
	if err != nil {
		return false, time.Time{}, fmt.Errorf("api: redis charge: %w", err)
	}
	if m < 0 {
		return true, time.Time{}, nil
	}
	return false, time.Unix(m*60, 0), nil
}

// Refund implements LimitStore.
func (s *RedisLimits) Refund(ctx context.Context, owner string, n int64, now time.Time) error {
	minute := strconv.FormatInt(now.Unix()/60, 10)
	if err := s.rdb.HIncrBy(ctx, s.keys.Use(owner), minute, -n).Err(); err != nil {
		return fmt.Errorf("api: redis refund: %w", err)
	}
	return nil
}

// admitScript: KEYS[1] busy zset; ARGV id, limit. Returns 1 when admitted. Every job
// has score 0; members with a higher score are websocket leases an earlier version
// left, which nothing renews any more: the script drops them.
var admitScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(0', '+inf')
local limit = tonumber(ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('EXPIRE', KEYS[1], 604800)
return 1
`)

// Admit implements LimitStore.
func (s *RedisLimits) Admit(ctx context.Context, owner, id string, limit int) (bool, error) {
	n, err := admitScript.Run(ctx, s.rdb, []string{s.keys.Busy(owner)}, id, limit).Int()
	if err != nil {
		return false, fmt.Errorf("api: redis admit: %w", err)
	}
	return n == 1, nil
}

// Jobs implements LimitStore. It lists the members of score 0: one of another score is a
// lease an earlier version left, no job (admitScript drops them).
func (s *RedisLimits) Jobs(ctx context.Context, owner string) ([]string, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, s.keys.Busy(owner), &redis.ZRangeBy{Min: "0", Max: "0"}).Result()
	if err != nil {
		return nil, fmt.Errorf("api: redis jobs in progress: %w", err)
	}
	return ids, nil
}

// Remove implements LimitStore.
func (s *RedisLimits) Remove(ctx context.Context, owner string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	if err := s.rdb.ZRem(ctx, s.keys.Busy(owner), members...).Err(); err != nil {
		return fmt.Errorf("api: redis remove: %w", err)
	}
	return nil
}
