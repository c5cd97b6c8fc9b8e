package queue

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// unavailableHook marks the errors of a Redis that cannot serve now as ErrUnavailable,
// as the SQLite store marks a full or failing disk, so that callers tell an outage from
// the queue's answers: a worker hands its job back instead of counting a failed attempt
// against it, and the API answers 503. The client's own retries run first.
type unavailableHook struct{}

func (unavailableHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (unavailableHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if redisUnavailable(err) {
			err = unavailableError{err}
			cmd.SetErr(err)
		}
		return err
	}
}

func (unavailableHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if redisUnavailable(cmd.Err()) {
				cmd.SetErr(unavailableError{cmd.Err()})
			}
		}
		if redisUnavailable(err) {
			err = unavailableError{err}
		}
		return err
	}
}

// redisUnavailable reports an error of the connection or of the server's state (no
// connection, a restart loading its data, a replica not yet promoted, a cluster without
// a slot's master, full memory, too many clients), not an answer to the command. The end
// of the caller's context is the caller's, not the store's.
func redisUnavailable(err error) bool {
	if err == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, redis.Nil) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted):
		return true
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) || redis.IsOOMError(err) ||
		redis.IsMaxClientsError(err)
}
