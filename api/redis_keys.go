package api

// Redis data layout of the API. Every key the API uses is built in this file; the queue's
// keys are in queue/keys.go. All keys start with the configured prefix P (default
// "tesuji", the queue's default too, so one deployment's keys sit together):
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
//	P:limits:{o:OWNER}:busy  zset  the owner's jobs and websocket queries in progress, for
//	                               the limit of jobs at once: a queue job's id with score 0
//	                               (it stays until the API sees the job final), a websocket
//	                               query's key with its lease expiry in ms as score (its
//	                               server renews it; a crashed server's entries lapse).
//	                               Expires a week after its last admission.
//	P:limits:{o:OWNER}:reply:CALL
//	                         string  set by a charge, for a few minutes, under a random id
//	                               per call: a resent call (a client that lost the reply
//	                               sends it again) finds it and does not charge twice.
//
// OWNER is a token id (16 hex digits), or empty in open mode. The hash tag {o:OWNER} keeps
// an owner's two keys on one slot, so each limit check is one atomic script.

const defaultRedisPrefix = "tesuji"

type redisKeys struct{ prefix string }

func newRedisKeys(prefix string) redisKeys {
	if prefix == "" {
		prefix = defaultRedisPrefix
	}
	return redisKeys{prefix: prefix}
}

func (k redisKeys) tokens() string { return k.prefix + ":tokens" }

func (k redisKeys) use(owner string) string {
	return k.prefix + ":limits:{o:" + owner + "}:use"
}

func (k redisKeys) reply(owner, call string) string {
	return k.prefix + ":limits:{o:" + owner + "}:reply:" + call
}

func (k redisKeys) busy(owner string) string {
	return k.prefix + ":limits:{o:" + owner + "}:busy"
}
