package queue

import "github.com/redis/go-redis/v9"

// The Lua scripts of the Redis queue. Scripts on a job's slot take KEYS = record, results,
// events (keys.jobKeys); scripts on the global slot take the index keys (keys.indexKeys) and
// what else they name. Every key a script touches is in its KEYS, as a cluster requires.
// Times come from Redis's clock (TIME), so leases do not depend on the clocks of the
// machines that run workers. go-redis runs a script with EVALSHA and falls back to EVAL, so
// the scripts come back by themselves after a Redis restart.

// luaJob is the prelude of the scripts on a job's slot.
const luaJob = `
local rec, results, events = KEYS[1], KEYS[2], KEYS[3]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- fence returns why a write under the lease token tok must be refused, or nil.
local function fence(tok, now)
  local st, token, lexp = unpack(redis.call('HMGET', rec, 'state', 'token', 'lexp'))
  if not st then return 'lost' end
  if st == 'cancelled' then return 'cancelled' end
  if st ~= 'running' or token ~= tok or tonumber(lexp) <= now then return 'lost' end
  return nil
end

local function event(typ, data)
  redis.call('XADD', events, '*', 't', typ, 'd', data)
end

local function state_event(typ, st, att, err)
  local ev = {state = st, attempts = tonumber(att)}
  if err and err ~= '' then ev.error = err end
  event(typ, cjson.encode(ev))
end

-- finish makes the job final: its event, then expiry of all its keys after retention ms.
local function finish(st, typ, err, now, retention)
  redis.call('HSET', rec, 'state', st, 'finished', now)
  redis.call('HDEL', rec, 'worker')
  local ver = redis.call('HINCRBY', rec, 'ver', 1)
  state_event(typ, st, redis.call('HGET', rec, 'att'), err)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], retention) end
  return {st, ver, 0, redis.call('HGET', rec, 'dedupe') or ''}
end

-- requeue puts a running job back in line (the index update follows on the global slot).
local function requeue()
  redis.call('HSET', rec, 'state', 'queued')
  redis.call('HDEL', rec, 'worker')
  local ver = redis.call('HINCRBY', rec, 'ver', 1)
  return {'queued', ver, 0, ''}
end
`

// luaGlobal is the prelude of the scripts on the global slot.
const luaGlobal = `
local ready, leases, wake, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- trim_wake keeps one wake-up token per queued job at most.
local function trim_wake()
  local n = redis.call('ZCARD', ready)
  if n == 0 then
    redis.call('DEL', wake)
  else
    redis.call('LTRIM', wake, 0, n - 1)
  end
end

local function push_wake()
  redis.call('RPUSH', wake, '1')
  trim_wake()
end
`

// Script results are arrays whose first element says what happened: ok, or the state the
// job is in, or one of lost, cancelled, missing, final, invalid, incomplete, exists, dup.
// The scripts that change a job's state return {state, ver, lexp, dedupe key}, which
// indexScript then applies to the global slot.

// createScript writes a new record (state queued, version 1), which expires unless
// persistScript follows once the job is in the index. ARGV: expiry ms, then field, value
// pairs. Returns {ok, created ms} or {exists}.
var createScript = redis.NewScript(luaJob + `
if redis.call('EXISTS', rec) == 1 then return {'exists'} end
local now = now_ms()
redis.call('HSET', rec, 'state', 'queued', 'att', 0, 'token', 0, 'ver', 1, 'created', now, unpack(ARGV, 2))
redis.call('PEXPIRE', rec, ARGV[1])
return {'ok', now}
`)

// persistScript removes the expiry of a committed record that is not final.
var persistScript = redis.NewScript(luaJob + `
local st = redis.call('HGET', rec, 'state')
if st == 'queued' or st == 'running' then redis.call('PERSIST', rec) end
return {'ok'}
`)

// dropScript deletes a record that lost a dedupe race before anyone could know its id.
var dropScript = redis.NewScript(luaJob + `
local st, ver = unpack(redis.call('HMGET', rec, 'state', 'ver'))
if st == 'queued' and ver == '1' then redis.call('DEL', rec) end
return {'ok'}
`)

// commitScript makes a created job claimable: the dedupe key (unless it names another job
// than ARGV[4]), its place in line, its index entry and a wake-up token. KEYS: the index
// keys, the sequence, then the dedupe key if any. ARGV: id, priority, dedupe expiry ms, the
// job id the dedupe key may be taken from. Returns {ok} or {dup, id of the live job}.
var commitScript = redis.NewScript(luaGlobal + `
local id = ARGV[1]
if KEYS[6] then
  local cur = redis.call('GET', KEYS[6])
  if cur and cur ~= ARGV[4] then return {'dup', cur} end
  redis.call('SET', KEYS[6], id, 'PX', ARGV[3])
end
local seq = redis.call('INCR', KEYS[5])
local score = string.format('%.0f', (1 - tonumber(ARGV[2])) * 4503599627370496 + seq)
redis.call('ZADD', ready, score, id)
redis.call('HSET', index, id, '1:' .. score)
push_wake()
return {'ok'}
`)

// claimNextScript hands a claimer its next move: {expired, ids} when leases have expired
// (the claimer reaps them first), {claim, id} with the id moved from ready to leases for
// ARGV[1] ms while the claim completes, or {none, now ms, next lease expiry ms or empty}.
// ARGV: claim grace ms, how many expired ids at most.
var claimNextScript = redis.NewScript(luaGlobal + `
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, ARGV[2])
if #expired > 0 then return {'expired', expired} end
local popped = redis.call('ZPOPMIN', ready)
trim_wake()
if #popped > 0 then
  redis.call('ZADD', leases, now + tonumber(ARGV[1]), popped[1])
  return {'claim', popped[1]}
end
local nxt = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
return {'none', string.format('%.0f', now), nxt[2] or ''}
`)

// expiredScript lists up to ARGV[1] job ids whose lease entry is past its score.
var expiredScript = redis.NewScript(luaGlobal + `
return redis.call('ZRANGEBYSCORE', leases, '-inf', now_ms(), 'LIMIT', 0, ARGV[1])
`)

// indexScript makes the index reflect a record version. KEYS: the index keys, then the
// dedupe key if the job is final and has one. ARGV: id, version, state, lease expiry ms,
// dedupe expiry ms. Returns {ok, 1 applied / 0 older than the index}.
var indexScript = redis.NewScript(luaGlobal + `
local id, ver, st = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local cur = redis.call('HGET', index, id)
if st == 'queued' or st == 'running' then
  if not cur then
    -- Final, or never committed: nothing of it belongs in line.
    redis.call('ZREM', ready, id)
    redis.call('ZREM', leases, id)
    return {'ok', 0}
  end
  local sep = string.find(cur, ':', 1, true)
  local curver, score = tonumber(string.sub(cur, 1, sep - 1)), string.sub(cur, sep + 1)
  if ver < curver then return {'ok', 0} end
  redis.call('HSET', index, id, string.format('%.0f', ver) .. ':' .. score)
  if st == 'queued' then
    redis.call('ZREM', leases, id)
    redis.call('ZADD', ready, score, id)
    push_wake()
  else
    redis.call('ZREM', ready, id)
    redis.call('ZADD', leases, ARGV[4], id)
  end
  return {'ok', 1}
end
-- Final or missing: out of line for good.
redis.call('ZREM', ready, id)
redis.call('ZREM', leases, id)
redis.call('HDEL', index, id)
if KEYS[5] and redis.call('GET', KEYS[5]) == id then
  redis.call('PEXPIRE', KEYS[5], ARGV[5])
end
return {'ok', 1}
`)

// claimScript claims a queued job. ARGV: worker id, lease ms. Returns {running, ver, lexp,
// empty, token, record as a flat list}, or {state, ver, lexp, empty} of a job that is not
// queued, or {missing}.
var claimScript = redis.NewScript(luaJob + `
if redis.call('EXISTS', rec) == 0 then return {'missing'} end
local st, ver, lexp = unpack(redis.call('HMGET', rec, 'state', 'ver', 'lexp'))
if st ~= 'queued' then return {st, ver, lexp or '0', ''} end
local now = now_ms()
local exp = now + tonumber(ARGV[2])
local token = redis.call('HINCRBY', rec, 'token', 1)
ver = redis.call('HINCRBY', rec, 'ver', 1)
redis.call('HSET', rec, 'state', 'running', 'worker', ARGV[1], 'lexp', string.format('%.0f', exp), 'started', string.format('%.0f', now))
redis.call('PERSIST', rec)
return {'running', ver, exp, '', token, redis.call('HGETALL', rec)}
`)

// expireScript settles a job found in the lease set past its score: a lease that really
// expired counts an attempt and requeues the job or, with the attempts used up, fails it.
// ARGV: retention ms. Returns {state, ver, lexp, dedupe key, expired 0/1} or {missing}.
var expireScript = redis.NewScript(luaJob + `
if redis.call('EXISTS', rec) == 0 then return {'missing'} end
local st, ver, lexp, max = unpack(redis.call('HMGET', rec, 'state', 'ver', 'lexp', 'max'))
if st ~= 'running' then return {st, ver, 0, redis.call('HGET', rec, 'dedupe') or '', 0} end
local now = now_ms()
if tonumber(lexp) > now then return {'running', ver, lexp, '', 0} end
local att = redis.call('HINCRBY', rec, 'att', 1)
redis.call('HSET', rec, 'err', 'lease expired')
local out
if att >= tonumber(max) then
  out = finish('failed', 'failed', 'lease expired', now, ARGV[1])
else
  out = requeue()
  state_event('retry', 'queued', att, 'lease expired')
end
out[5] = 1
return out
`)

// heartbeatScript extends a lease. ARGV: token, lease ms. Returns {running, ver, lexp} or
// {lost} or {cancelled}.
var heartbeatScript = redis.NewScript(luaJob + `
local now = now_ms()
local why = fence(ARGV[1], now)
if why then return {why} end
local exp = now + tonumber(ARGV[2])
redis.call('HSET', rec, 'lexp', string.format('%.0f', exp))
local ver = redis.call('HINCRBY', rec, 'ver', 1)
return {'running', ver, exp, ''}
`)

// storeScript stores a turn's result once and appends its event. ARGV: token, turn,
// result. Returns {ok, 1 stored / 0 kept}, {invalid}, {lost} or {cancelled}.
var storeScript = redis.NewScript(luaJob + `
local why = fence(ARGV[1], now_ms())
if why then return {why} end
if not string.find(redis.call('HGET', rec, 'turns') or '', ',' .. ARGV[2] .. ',', 1, true) then
  return {'invalid'}
end
if redis.call('HSETNX', results, ARGV[2], ARGV[3]) == 0 then return {'ok', 0} end
event('turn', ARGV[3])
return {'ok', 1}
`)

// publishScript appends a worker's event. ARGV: token, type, data.
var publishScript = redis.NewScript(luaJob + `
local why = fence(ARGV[1], now_ms())
if why then return {why} end
event(ARGV[2], ARGV[3])
return {'ok'}
`)

// completeScript finishes a job whose turns all have a result. ARGV: token, retention ms.
var completeScript = redis.NewScript(luaJob + `
local now = now_ms()
local why = fence(ARGV[1], now)
if why then return {why} end
local have, want = redis.call('HLEN', results), tonumber(redis.call('HGET', rec, 'nturns'))
if have < want then return {'incomplete', have, want} end
return finish('done', 'done', nil, now, ARGV[2])
`)

// failScript counts a failed attempt. ARGV: token, message, retry 1/0, retention ms.
var failScript = redis.NewScript(luaJob + `
local now = now_ms()
local why = fence(ARGV[1], now)
if why then return {why} end
local att = redis.call('HINCRBY', rec, 'att', 1)
redis.call('HSET', rec, 'err', ARGV[2])
if ARGV[3] == '1' and att < tonumber(redis.call('HGET', rec, 'max')) then
  local out = requeue()
  state_event('retry', 'queued', att, ARGV[2])
  return out
end
return finish('failed', 'failed', ARGV[2], now, ARGV[4])
`)

// releaseScript hands a job back without counting an attempt. ARGV: token.
var releaseScript = redis.NewScript(luaJob + `
local why = fence(ARGV[1], now_ms())
if why then return {why} end
return requeue()
`)

// cancelScript cancels a job that is not final. ARGV: retention ms. Returns the new state
// as the others do, or {final, state} or {missing}.
var cancelScript = redis.NewScript(luaJob + `
local st = redis.call('HGET', rec, 'state')
if not st then return {'missing'} end
if st ~= 'queued' and st ~= 'running' then return {'final', st} end
return finish('cancelled', 'cancelled', nil, now_ms(), ARGV[1])
`)
