package queue

import (
	"crypto/sha256"
	"encoding/hex"
)

// Redis data layout. Every Redis key of a deployment is built in this file: the queue's,
// and the API's tokens and limits (APIKeys), which live in the same Redis.
//
// Hash tags. Redis Cluster puts a key on the slot of the part between its first "{" and
// the following "}" (its hash tag), and a script may only touch keys of one slot. So every
// key carries the tag of the unit it changes together with: a job's id, an owner's id, or
// the prefix for the structures that span jobs. A prefix may not hold braces (the queue
// refuses one), so no tag ends early.
//
// All keys start with the configured prefix P (RedisConfig.Prefix, default DefaultPrefix). A
// job's keys carry its id as hash tag, so a Redis Cluster keeps them on one slot and one Lua
// script changes them together, atomically and fenced:
//
//	P:job:{ID}          hash    the record: the Job's fields (owner, prio, payload, turns as
//	                            ",0,1,2,", nturns, pos, max, att, err, worker, created, started,
//	                            finished in ms) plus state, token (the lease token, +1 per
//	                            claim), lexp (lease expiry, ms by Redis's clock), ver (+1 per
//	                            change of state or lease), dedupe (the dedupe key's name) and
//	                            vars (SaveVariations' bytes, expiring with the record)
//	P:job:{ID}:results  hash    turn -> result JSON, written once (HSETNX) unless replaced
//	                            (replaceScript: an adaptive review's deeper search)
//	P:job:{ID}:events   stream  the job's events, fields t (type) and d (data); the event
//	                            ids are the stream ids
//	P:job:{ID}:reply:<call>
//	                    string  the reply of a script call that changed the job, as JSON,
//	                            for replyTTL: a resent call (a client that lost the reply
//	                            sends it again) gets it instead of running twice. <call> is
//	                            a random id per call: a new call is a new question
//
// A final job's three keys expire after the retention period; a job that is not final has
// no expiry (a record whose Enqueue died before it was committed expires on its own).
//
// The structures that span jobs cannot share a job's slot; they share the hash tag {P} and
// so live together on one slot of their own (one node of a cluster serves them; they are
// small: ids and scores):
//
//	{P}:ready           zset    queued job ids; score (1-priority)*2^52 + enqueue sequence,
//	                            so interactive jobs come first, then the oldest
//	{P}:leases          zset    running job ids (and ids being claimed); score = lease
//	                            expiry in ms
//	{P}:index           hash    job id -> "ver:score:left:created": the record version the
//	                            ready and lease entries reflect, the job's place in line,
//	                            the positions it adds to the backlog at that version and
//	                            its creation time in ms
//	{P}:stats           hash    the counters behind Stats, kept by the scripts that move
//	                            jobs in the index: pos (positions waiting: the sum of left
//	                            over the index) and done, failed, cancelled (jobs that
//	                            reached each final state, ever)
//	{P}:seq             string  the enqueue sequence (INCR)
//	{P}:wake            list    one token per claimable review, for claimers blocked in
//	                            BLPOP; kept as long as the reviews in {P}:ready
//	{P}:wake:interactive
//	                    list    the same for interactive jobs. A claimer of any job blocks
//	                            on both lists, one that claims a single priority (Claim's
//	                            only) on that priority's list alone, so it never takes the
//	                            wake-up of a job it cannot claim
//	{P}:dedupe:<sha>    string  the job id for sha256(owner NUL dedupe key); expires after
//	                            the retention period
//	{P}:workers         zset    worker id -> last registration, ms
//	{P}:worker:<id>     hash    the worker's registry entry; expires after the registry TTL
//	{P}:reply:<call>    string  as P:job:{ID}:reply:<call>, for the calls of the scripts on
//	                            this slot (commit, claim, a library admission)
//
// Consistency across the two slots. The job record is the truth; the global structures are
// an index of it. Each change of state is one script on the job's slot (atomic, fenced by
// the lease token and expiry, returning the record's new version) followed by one script on
// the global slot that makes the index reflect that version; an index update older than the
// one already applied is ignored. A process that dies between the two leaves the index
// behind, never ahead, and whoever meets the stale entry repairs it from the record: a
// claimer that pops a job no longer queued, or the reaper that finds a lease entry past its
// score. No job can be lost that way, because a job leaves its old index entry only in the
// same script that gives it the new one.
//
// The job state machine is documented in the package comment (queue.go); the scripts that
// make each transition are in redis_scripts.go.
//
// The API's keys (APIKeys), under the same prefix P:
//
//	P:tokens                 hash  token id -> the token's record as JSON: id, name,
//	                               createdAt, revokedAt (when revoked) and hash, the hex
//	                               SHA-256 of the whole token. The token itself is never
//	                               stored. One key, so a Cluster serves it from one slot
//	                               and creating a token (which checks that its name is free)
//	                               is one script.
//	P:limits:{o:OWNER}:use   hash  unix minute -> positions charged in that minute, for
//	                               the hourly quota; minutes older than an hour are deleted
//	                               by the charge that finds them, and the key expires an
//	                               hour after its last charge.
//	P:limits:{o:OWNER}:busy  zset  the owner's jobs in progress, for the limit of jobs at
//	                               once: each queue job's id with score 0; it stays until
//	                               the API sees the job final. A member of a higher score is
//	                               a websocket lease an earlier version left: an admission
//	                               drops them. Expires a week after its last admission.
//	P:limits:{o:OWNER}:reply:CALL
//	                         string  set by a charge, for a few minutes, under a random id
//	                               per call: a resent call (a client that lost the reply
//	                               sends it again) finds it and does not charge twice.
//
// OWNER is a token id (16 hex digits), or empty in open mode. The hash tag {o:OWNER} keeps
// an owner's keys on one slot, so each limit check is one atomic script.

// DefaultPrefix starts every key when no prefix is configured.
const DefaultPrefix = "tesuji"

// keys builds the key names of one queue.
type keys struct {
	prefix string // P
	global string // {P}
}

func newKeys(prefix string) keys {
	return keys{prefix: prefix, global: "{" + prefix + "}"}
}

func (k keys) job(id string) string     { return k.prefix + ":job:{" + id + "}" }
func (k keys) results(id string) string { return k.prefix + ":job:{" + id + "}:results" }
func (k keys) events(id string) string  { return k.prefix + ":job:{" + id + "}:events" }

// jobKeys are the KEYS of every script on a job's slot, in this order.
func (k keys) jobKeys(id string) []string {
	return []string{k.job(id), k.results(id), k.events(id)}
}

// reply names the key that keeps the reply of one call of a script on the job's slot.
func (k keys) reply(id, call string) string { return k.prefix + ":job:{" + id + "}:reply:" + call }

// callKeys are the KEYS of a script on a job's slot that runs once per call.
func (k keys) callKeys(id, call string) []string {
	return append(k.jobKeys(id), k.reply(id, call))
}

func (k keys) ready() string  { return k.global + ":ready" }
func (k keys) leases() string { return k.global + ":leases" }
func (k keys) index() string  { return k.global + ":index" }
func (k keys) seq() string    { return k.global + ":seq" }
func (k keys) wake() string   { return k.global + ":wake" }
func (k keys) stats() string  { return k.global + ":stats" }

// wakeFor names the wake-up list of the jobs of priority p.
func (k keys) wakeFor(p Priority) string {
	if p == PriorityInteractive {
		return k.global + ":wake:interactive"
	}
	return k.wake()
}

// globalReply names the key that keeps the reply of one call of a script on the global slot.
func (k keys) globalReply(call string) string { return k.global + ":reply:" + call }

// dedupe names the key that holds the live job for an owner's dedupe key. The owner and
// key are hashed: they may hold anything, and a token should not show in a key name.
func (k keys) dedupe(owner, key string) string {
	sum := sha256.Sum256([]byte(owner + "\x00" + key))
	return k.global + ":dedupe:" + hex.EncodeToString(sum[:])
}

func (k keys) workers() string         { return k.global + ":workers" }
func (k keys) worker(id string) string { return k.global + ":worker:" + id }

// indexKeys are the KEYS of the scripts on the global slot that move a job in the index.
func (k keys) indexKeys() []string {
	return []string{k.ready(), k.leases(), k.wake(), k.index(), k.stats(), k.wakeFor(PriorityInteractive)}
}

// The review library and the owner caps, on the global slot; <sha> is the hex SHA-256 of
// the owner:
//
//	{P}:owner:<sha>     zset    the owner's job ids; score = a number from {P}:seq taken
//	                            when the job was submitted (newest last)
//	{P}:sizes:<sha>     hash    job id -> the bytes it holds of the owner's cap
//	{P}:usage:<sha>     hash    jobs, bytes: the owner's totals, checked by Enqueue
//
// An owner's entries are added before the job is created and removed when it is deleted,
// when its creation fails, or when List or a refused Enqueue finds its record expired. A
// job's record also holds p:<turn> -> the stream id of the turn's latest partial event.
func (k keys) ownerHash(owner string) string {
	sum := sha256.Sum256([]byte(owner))
	return hex.EncodeToString(sum[:])
}
func (k keys) ownerJobs(owner string) string  { return k.global + ":owner:" + k.ownerHash(owner) }
func (k keys) ownerSizes(owner string) string { return k.global + ":sizes:" + k.ownerHash(owner) }
func (k keys) ownerUsage(owner string) string { return k.global + ":usage:" + k.ownerHash(owner) }

// libraryKeys are the KEYS of the scripts that keep an owner's library and usage.
func (k keys) libraryKeys(owner string) []string {
	return []string{k.ownerJobs(owner), k.ownerSizes(owner), k.ownerUsage(owner), k.seq()}
}

// APIKeys builds the names of the API's keys: its tokens and each owner's limits. The
// layout is documented at the top of this file.
type APIKeys struct{ prefix string }

// NewAPIKeys returns the builder for prefix; "" means DefaultPrefix.
func NewAPIKeys(prefix string) APIKeys {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return APIKeys{prefix: prefix}
}

// Tokens names the hash of every token's record.
func (k APIKeys) Tokens() string { return k.prefix + ":tokens" }

// owner is the start of an owner's keys, with the owner's hash tag.
func (k APIKeys) owner(owner string) string { return k.prefix + ":limits:{o:" + owner + "}" }

// Use names the hash of an owner's positions charged per minute.
func (k APIKeys) Use(owner string) string { return k.owner(owner) + ":use" }

// Busy names the sorted set of an owner's jobs in progress.
func (k APIKeys) Busy(owner string) string { return k.owner(owner) + ":busy" }

// Reply names the key that remembers one charge call of an owner, for a resend.
func (k APIKeys) Reply(owner, call string) string { return k.owner(owner) + ":reply:" + call }
