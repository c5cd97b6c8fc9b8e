package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/queue"
)

// RedisTokens is a TokenStore in Redis, shared by every API server of a deployment. The
// layout is in queue/keys.go: one hash, token id -> the token's record as JSON.
type RedisTokens struct {
	rdb  redis.UniversalClient
	keys queue.APIKeys
}

// NewRedisTokens returns the store in rdb under prefix ("" means "tesuji", so the hash is
// "tesuji:tokens").
func NewRedisTokens(rdb redis.UniversalClient, prefix string) *RedisTokens {
	return &RedisTokens{rdb: rdb, keys: queue.NewAPIKeys(prefix)}
}

// createTokenScript adds a record unless a live token has its name: 1 added, 0 taken.
// The record's id is random per call, so finding the very record already there means this
// call ran before (a client that lost the reply resends the call): it answers 1 again.
var createTokenScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[3] then return 1 end
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local ok, r = pcall(cjson.decode, v)
  if ok and r.name == ARGV[2] and r.revokedAt == nil then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

// Create implements TokenStore.
func (s *RedisTokens) Create(ctx context.Context, name string, scopes ...Scope) (string, TokenInfo, error) {
	if err := checkName(nil, name); err != nil {
		return "", TokenInfo{}, err
	}
	token, rec := newToken(name, time.Now(), scopes)
	data, err := json.Marshal(rec)
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("api: encode token: %w", err)
	}
	n, err := createTokenScript.Run(ctx, s.rdb, []string{s.keys.Tokens()}, rec.ID, name, data).Int()
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("api: create token: %w", err)
	}
	if n == 0 {
		return "", TokenInfo{}, fmt.Errorf("%w: a token named %q exists", ErrTokenName, name)
	}
	return token, rec.TokenInfo, nil
}

func (s *RedisTokens) records(ctx context.Context) ([]tokenRecord, error) {
	all, err := s.rdb.HGetAll(ctx, s.keys.Tokens()).Result()
	if err != nil {
		return nil, fmt.Errorf("api: list tokens: %w", err)
	}
	recs := make([]tokenRecord, 0, len(all))
	for id, v := range all {
		var r tokenRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("api: token %s: %w", id, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// List implements TokenStore.
func (s *RedisTokens) List(ctx context.Context) ([]TokenInfo, error) {
	recs, err := s.records(ctx)
	if err != nil {
		return nil, err
	}
	return infos(recs), nil
}

// Revoke implements TokenStore.
func (s *RedisTokens) Revoke(ctx context.Context, idOrName string) (TokenInfo, error) {
	recs, err := s.records(ctx)
	if err != nil {
		return TokenInfo{}, err
	}
	i, err := findRecord(recs, idOrName)
	if err != nil {
		return TokenInfo{}, err
	}
	rec := recs[i]
	if rec.Revoked() {
		return rec.TokenInfo, nil
	}
	rec.RevokedAt = time.Now().UTC().Truncate(time.Second)
	data, err := json.Marshal(rec)
	if err != nil {
		return TokenInfo{}, fmt.Errorf("api: encode token: %w", err)
	}
	if err := s.rdb.HSet(ctx, s.keys.Tokens(), rec.ID, data).Err(); err != nil {
		return TokenInfo{}, fmt.Errorf("api: revoke token: %w", err)
	}
	return rec.TokenInfo, nil
}

// Check implements TokenStore: one HGET per request, so a revocation holds at once on
// every server.
func (s *RedisTokens) Check(ctx context.Context, token string) (TokenInfo, error) {
	id, ok := tokenID(token)
	if !ok {
		return TokenInfo{}, ErrTokenInvalid
	}
	v, err := s.rdb.HGet(ctx, s.keys.Tokens(), id).Result()
	if errors.Is(err, redis.Nil) {
		return checkRecord(nil, token)
	}
	if err != nil {
		return TokenInfo{}, fmt.Errorf("api: check token: %w", err)
	}
	var rec tokenRecord
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return TokenInfo{}, fmt.Errorf("api: token %s: %w", id, err)
	}
	return checkRecord(&rec, token)
}
