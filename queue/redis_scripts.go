package queue

import (
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts of the Redis queue. Scripts on a job's slot take KEYS = record, results,
// events (keys.jobKeys); scripts on the global slot take the index keys (keys.indexKeys) and
// what else they name. Every key a script touches is in its KEYS, as a cluster requires.
// Times come from Redis's clock (TIME), so leases do not depend on the clocks of the
// machines that run workers. go-redis runs a script with EVALSHA and falls back to EVAL, so
// the scripts come back by themselves after a Redis restart.

// luaOnce is the part of both preludes that makes a script safe to run twice for one call.
// A client that loses a reply resends the command (go-redis does, EVALSHA included), so a
// script can run again for a call that already made its change. once runs body unless the
// call's reply key (KEYS[n], named by a per-call id: keys.reply, keys.globalReply) holds the
// first run's reply, which it then returns as it was. body returns its reply and whether it
// changed anything; only a change is remembered (for replyTTL), since a refusal left nothing
// behind and may as well be answered afresh.
var luaOnce = `
local function once(memo, body)
  local seen = redis.call('GET', memo)
  if seen then return cjson.decode(seen) end
  local out, changed = body()
  if changed then redis.call('SET', memo, cjson.encode(out), 'PX', ` + strconv.FormatInt(replyTTL.Milliseconds(), 10) + `) end
  return out
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- int writes a number as Redis takes an integer (tostring would switch to exponents).
local function int(n)
  return string.format('%.0f', n)
end
`

// luaJob is the prelude of the scripts on a job's slot.
var luaJob = luaOnce + `
local rec, results, events = KEYS[1], KEYS[2], KEYS[3]

-- fence returns why a write under the lease token tok must be refused, or nil.
local function fence(tok, now)
  local st, token, lexp = unpack(redis.call('HMGET', rec, 'state', 'token', 'lexp'))
  if not st then return 'lost' end
  if st == 'cancelled' then return 'cancelled' end
  if st ~= 'running' or token ~= tok or tonumber(lexp) <= now then return 'lost' end
  return nil
end

-- fence_turn returns why a write of turn's result under the lease token tok must be
-- refused (invalid: the job has no such turn), or nil.
local function fence_turn(tok, turn)
  local why = fence(tok, now_ms())
  if why then return why end
  if not string.find(redis.call('HGET', rec, 'turns') or '', ',' .. turn .. ',', 1, true) then
    return 'invalid'
  end
  return nil
end

-- left is the backlog the job still represents (positionsLeft in Go): all its positions
-- until a turn has a result, then the share of its turns without one.
local function left()
  local pos, nturns = unpack(redis.call('HMGET', rec, 'pos', 'nturns'))
  pos, nturns = tonumber(pos) or 0, tonumber(nturns) or 0
  local stored = redis.call('HLEN', results)
  if nturns == 0 or stored == 0 then return pos end
  if stored >= nturns then return 0 end
  return math.floor(pos * (nturns - stored) / nturns)
end

local function event(typ, data)
  redis.call('XADD', events, '*', 't', typ, 'd', data)
end

-- drop_partial deletes the partial event kept for a turn (see publishPartialScript),
-- once the turn has its result.
local function drop_partial(turn)
  local field = 'p:' .. turn
  local old = redis.call('HGET', rec, field)
  if old then
    redis.call('XDEL', events, old)
    redis.call('HDEL', rec, field)
  end
end

local function state_event(typ, st, att, err)
  local ev = {state = st, attempts = tonumber(att)}
  if err and err ~= '' then ev.error = err end
  event(typ, cjson.encode(ev))
end

-- drop_partials deletes every partial event the job keeps (a final job keeps none).
local function drop_partials()
  for _, field in ipairs(redis.call('HKEYS', rec)) do
    if string.sub(field, 1, 2) == 'p:' then
      redis.call('XDEL', events, redis.call('HGET', rec, field))
      redis.call('HDEL', rec, field)
    end
  end
end

-- finish makes the job final: its partial events go, its final event comes, and all its
-- keys expire after the retention its submission recorded (ret, in ms), else after
-- retention ms, the caller's: a worker or a fleet finishes jobs that a server submitted
-- with its own retention.
local function finish(st, typ, err, now, retention)
  drop_partials()
  redis.call('HSET', rec, 'state', st, 'finished', now)
  redis.call('HDEL', rec, 'worker')
  local ver = redis.call('HINCRBY', rec, 'ver', 1)
  state_event(typ, st, redis.call('HGET', rec, 'att'), err)
  local keep = tonumber(redis.call('HGET', rec, 'ret') or '') or retention
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], keep) end
  return {st, ver, 0, redis.call('HGET', rec, 'dedupe') or '', 0}
end

-- requeue puts a running job back in line (the index update follows on the global slot).
local function requeue()
  redis.call('HSET', rec, 'state', 'queued')
  redis.call('HDEL', rec, 'worker')
  local ver = redis.call('HINCRBY', rec, 'ver', 1)
  return {'queued', ver, 0, '', left()}
end
`

// luaGlobal is the prelude of the scripts on the global slot.
var luaGlobal = luaOnce + `
local ready, leases, wake, index, stats, wakei = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]

-- band is where the scores of a priority's jobs in ready begin: interactive jobs below
-- it, reviews from it on.
local band = 4503599627370496

-- sync_list makes list hold one wake-up token per job of its priority in line (at most
-- a thousand: more claimers never wait at once), so that a claimer who took the token
-- of a job another claimer then took leaves none missing.
local function sync_list(list, n)
  n = math.min(n, 1000)
  local have = redis.call('LLEN', list)
  if n == 0 then
    redis.call('DEL', list)
  elseif have > n then
    redis.call('LTRIM', list, 0, n - 1)
  else
    for _ = have + 1, n do redis.call('RPUSH', list, '1') end
  end
end

-- sync_wake keeps one wake-up token per queued job on the list of its priority.
local function sync_wake()
  sync_list(wakei, redis.call('ZCOUNT', ready, '-inf', '(' .. int(band)))
  sync_list(wake, redis.call('ZCOUNT', ready, int(band), '+inf'))
end

-- An index entry is "ver:score:left:created": the record version it reflects, the job's
-- place in line, the positions it adds to the backlog and its creation time in ms.
local function parse_entry(cur)
  local f = {}
  for part in string.gmatch(cur, '[^:]+') do f[#f + 1] = part end
  return tonumber(f[1]), f[2], tonumber(f[3]) or 0, f[4] or '0'
end

local function entry(ver, score, left, created)
  return int(ver) .. ':' .. score .. ':' .. int(left) .. ':' .. created
end
`

// Script results are arrays whose first element says what happened: ok, or the state the
// job is in, or one of lost, cancelled, missing, final, invalid, incomplete, exists, dup.
// The scripts that change a job's state return the transition {state, ver, lexp, dedupe
// key, positions left}, which indexScript then applies to the global slot; what a script
// returns besides follows those five.
//
// The scripts that change something take the call's reply key (keys.reply on a job's slot,
// keys.globalReply on the global one) and run their change once per call (luaOnce).

// createScript writes a new record (state queued, version 1), which expires unless
// persistScript follows once the job is in the index. KEYS: the job's keys, the reply key.
// ARGV: expiry ms, then field, value pairs. Returns {ok, created ms} or {exists}.
var createScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  if redis.call('EXISTS', rec) == 1 then return {'exists'} end
  local now = now_ms()
  redis.call('HSET', rec, 'state', 'queued', 'att', 0, 'token', 0, 'ver', 1, 'created', now, unpack(ARGV, 2))
  redis.call('PEXPIRE', rec, ARGV[1])
  return {'ok', now}, true
end)
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
// than ARGV[4]), its place in line, its index entry, its positions in the backlog and a
// wake-up token. KEYS: the index keys, the reply key, the sequence, then the dedupe key if
// any. ARGV: id, priority, dedupe expiry ms, the job id the dedupe key may be taken from,
// positions, created ms. Returns {ok} or {dup, id of the live job}.
var commitScript = redis.NewScript(luaGlobal + `
return once(KEYS[7], function()
  local id = ARGV[1]
  if KEYS[9] then
    local cur = redis.call('GET', KEYS[9])
    if cur and cur ~= ARGV[4] then return {'dup', cur} end
    redis.call('SET', KEYS[9], id, 'PX', ARGV[3])
  end
  local seq = redis.call('INCR', KEYS[8])
  local score = int((1 - tonumber(ARGV[2])) * band + seq)
  redis.call('ZADD', ready, score, id)
  redis.call('HSET', index, id, entry(1, score, tonumber(ARGV[5]), ARGV[6]))
  redis.call('HINCRBY', stats, 'pos', ARGV[5])
  sync_wake()
  return {'ok'}, true
end)
`)

// claimNextScript hands a claimer its next move: {expired, ids} when leases have expired
// (the claimer reaps them first), {claim, id} with the id moved from ready to leases for
// ARGV[1] ms while the claim completes, or {none, now ms, next lease expiry ms or empty}.
// KEYS: the index keys, the reply key. ARGV: claim grace ms, how many expired ids at most,
// then the scores of ready the claimer takes from (min, max as ZRANGEBYSCORE reads them:
// -inf, +inf for any job; see Redis.Claim).
var claimNextScript = redis.NewScript(luaGlobal + `
return once(KEYS[7], function()
  local now = now_ms()
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, ARGV[2])
  if #expired > 0 then return {'expired', expired} end
  local popped = redis.call('ZRANGEBYSCORE', ready, ARGV[3], ARGV[4], 'LIMIT', 0, 1)
  if #popped > 0 then redis.call('ZREM', ready, popped[1]) end
  sync_wake()
  if #popped > 0 then
    redis.call('ZADD', leases, now + tonumber(ARGV[1]), popped[1])
    return {'claim', popped[1]}, true
  end
  local nxt = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  return {'none', int(now), nxt[2] or ''}
end)
`)

// expiredScript lists up to ARGV[1] job ids whose lease entry is past its score.
var expiredScript = redis.NewScript(luaGlobal + `
return redis.call('ZRANGEBYSCORE', leases, '-inf', now_ms(), 'LIMIT', 0, ARGV[1])
`)

// indexScript makes the index reflect a record version, and the counters of Stats with it:
// the backlog moves by the change of the job's positions left, and a job that leaves the
// index for a final state counts once in that state's total. Applying a version again
// changes nothing. KEYS: the index keys, then the dedupe key if the job is final and has
// one. ARGV: id, version, state, lease expiry ms, dedupe expiry ms, positions left.
// Returns {ok, 1 applied / 0 older than the index}.
var indexScript = redis.NewScript(luaGlobal + `
local id, ver, st, left = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[6])
local cur = redis.call('HGET', index, id)
if st == 'queued' or st == 'running' then
  if not cur then
    -- Final, or never committed: nothing of it belongs in line.
    redis.call('ZREM', ready, id)
    redis.call('ZREM', leases, id)
    return {'ok', 0}
  end
  local curver, score, curleft, created = parse_entry(cur)
  if ver < curver then return {'ok', 0} end
  redis.call('HSET', index, id, entry(ver, score, left, created))
  if left ~= curleft then redis.call('HINCRBY', stats, 'pos', int(left - curleft)) end
  if st == 'queued' then
    redis.call('ZREM', leases, id)
    redis.call('ZADD', ready, score, id)
    sync_wake()
  else
    redis.call('ZREM', ready, id)
    redis.call('ZADD', leases, ARGV[4], id)
  end
  return {'ok', 1}
end
-- Final or missing: out of line for good.
redis.call('ZREM', ready, id)
redis.call('ZREM', leases, id)
if cur then
  local _, _, curleft = parse_entry(cur)
  redis.call('HDEL', index, id)
  if curleft ~= 0 then redis.call('HINCRBY', stats, 'pos', int(-curleft)) end
  if st == 'done' or st == 'failed' or st == 'cancelled' then redis.call('HINCRBY', stats, st, 1) end
end
if KEYS[7] and redis.call('GET', KEYS[7]) == id then
  redis.call('PEXPIRE', KEYS[7], ARGV[5])
end
return {'ok', 1}
`)

// statsScript reads the counters of Stats, whatever the backlog: {interactive queued,
// reviews queued, running, positions waiting, done, failed, cancelled, created ms of the
// oldest job in line or 0}.
var statsScript = redis.NewScript(luaGlobal + `
local band = int(band)
local pos, done, failed, cancelled = unpack(redis.call('HMGET', stats, 'pos', 'done', 'failed', 'cancelled'))
local oldest = 0
for _, first in ipairs({redis.call('ZRANGEBYSCORE', ready, '-inf', '(' .. band, 'LIMIT', 0, 1),
                        redis.call('ZRANGEBYSCORE', ready, band, '+inf', 'LIMIT', 0, 1)}) do
  local cur = first[1] and redis.call('HGET', index, first[1])
  if cur then
    local _, _, _, created = parse_entry(cur)
    created = tonumber(created) or 0
    if created > 0 and (oldest == 0 or created < oldest) then oldest = created end
  end
end
return {redis.call('ZCOUNT', ready, '-inf', '(' .. band), redis.call('ZCOUNT', ready, band, '+inf'),
  redis.call('ZCARD', leases), tonumber(pos) or 0, tonumber(done) or 0, tonumber(failed) or 0,
  tonumber(cancelled) or 0, oldest}
`)

// claimScript claims a queued job. KEYS: the job's keys, the reply key. ARGV: worker id,
// lease ms. Returns the transition to running, the lease token and the record as a flat
// list; or the transition of a job that is not queued (the index is repaired with it); or
// {missing}.
var claimScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  if redis.call('EXISTS', rec) == 0 then return {'missing'} end
  local st, ver, lexp = unpack(redis.call('HMGET', rec, 'state', 'ver', 'lexp'))
  if st ~= 'queued' then return {st, ver, lexp or '0', '', left()} end
  local now = now_ms()
  local exp = now + tonumber(ARGV[2])
  local token = redis.call('HINCRBY', rec, 'token', 1)
  ver = redis.call('HINCRBY', rec, 'ver', 1)
  redis.call('HSET', rec, 'state', 'running', 'worker', ARGV[1], 'lexp', int(exp), 'started', int(now))
  redis.call('PERSIST', rec)
  return {'running', ver, exp, '', left(), token, redis.call('HGETALL', rec)}, true
end)
`)

// expireScript settles a job found in the lease set past its score: a lease that really
// expired counts an attempt and requeues the job or, with the attempts used up, fails it.
// ARGV: retention ms. Returns the transition and then 1 if the lease had expired, else 0;
// or {missing}. A second run finds the job settled and says so with the same transition.
var expireScript = redis.NewScript(luaJob + `
if redis.call('EXISTS', rec) == 0 then return {'missing'} end
local st, ver, lexp, max = unpack(redis.call('HMGET', rec, 'state', 'ver', 'lexp', 'max'))
if st ~= 'running' then return {st, ver, 0, redis.call('HGET', rec, 'dedupe') or '', left(), 0} end
local now = now_ms()
if tonumber(lexp) > now then return {'running', ver, lexp, '', left(), 0} end
local att = redis.call('HINCRBY', rec, 'att', 1)
redis.call('HSET', rec, 'err', 'lease expired')
local out
if att >= tonumber(max) then
  out = finish('failed', 'failed', 'lease expired', now, ARGV[1])
else
  out = requeue()
  state_event('retry', 'queued', att, 'lease expired')
end
out[6] = 1
return out
`)

// heartbeatScript extends a lease. KEYS: the job's keys, the reply key. ARGV: token, lease
// ms. Returns the transition, or {lost} or {cancelled}.
var heartbeatScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local now = now_ms()
  local why = fence(ARGV[1], now)
  if why then return {why} end
  local exp = now + tonumber(ARGV[2])
  redis.call('HSET', rec, 'lexp', int(exp))
  local ver = redis.call('HINCRBY', rec, 'ver', 1)
  return {'running', ver, exp, '', left()}, true
end)
`)

// storeScript stores a turn's result once and appends its event; the job's backlog
// shrinks, so the record's version moves too. KEYS: the job's keys, the reply key. ARGV:
// token, turn, result. Returns the transition and then 1 (stored), or {ok, 0} (kept),
// {invalid}, {lost} or {cancelled}.
var storeScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local why = fence_turn(ARGV[1], ARGV[2])
  if why then return {why} end
  if redis.call('HSETNX', results, ARGV[2], ARGV[3]) == 0 then return {'ok', 0} end
  drop_partial(ARGV[2])
  event('turn', ARGV[3])
  local ver = redis.call('HINCRBY', rec, 'ver', 1)
  return {'running', ver, redis.call('HGET', rec, 'lexp'), '', left(), 1}, true
end)
`)

// publishScript appends a worker's event. ARGV: token, type, data. A resent call appends
// its event again: partial and progress events are transient, and a reader takes the
// latest.
var publishScript = redis.NewScript(luaJob + `
local why = fence(ARGV[1], now_ms())
if why then return {why} end
event(ARGV[2], ARGV[3])
return {'ok'}
`)

// completeScript finishes a job whose turns all have a result. KEYS: the job's keys, the
// reply key. ARGV: token, retention ms.
var completeScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local now = now_ms()
  local why = fence(ARGV[1], now)
  if why then return {why} end
  local have, want = redis.call('HLEN', results), tonumber(redis.call('HGET', rec, 'nturns'))
  if have < want then return {'incomplete', have, want} end
  return finish('done', 'done', nil, now, ARGV[2]), true
end)
`)

// failScript counts a failed attempt. KEYS: the job's keys, the reply key. ARGV: token,
// message, retry 1/0, retention ms.
var failScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local now = now_ms()
  local why = fence(ARGV[1], now)
  if why then return {why} end
  local att = redis.call('HINCRBY', rec, 'att', 1)
  redis.call('HSET', rec, 'err', ARGV[2])
  if ARGV[3] == '1' and att < tonumber(redis.call('HGET', rec, 'max')) then
    local out = requeue()
    state_event('retry', 'queued', att, ARGV[2])
    return out, true
  end
  return finish('failed', 'failed', ARGV[2], now, ARGV[4]), true
end)
`)

// releaseScript hands a job back without counting an attempt. KEYS: the job's keys, the
// reply key. ARGV: token.
var releaseScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local why = fence(ARGV[1], now_ms())
  if why then return {why} end
  return requeue(), true
end)
`)

// cancelScript cancels a job that is not final. KEYS: the job's keys, the reply key. ARGV:
// retention ms. Returns the transition, or {final, state} or {missing}.
var cancelScript = redis.NewScript(luaJob + `
return once(KEYS[4], function()
  local st = redis.call('HGET', rec, 'state')
  if not st then return {'missing'} end
  if st ~= 'queued' and st ~= 'running' then return {'final', st} end
  return finish('cancelled', 'cancelled', nil, now_ms(), ARGV[1]), true
end)
`)
