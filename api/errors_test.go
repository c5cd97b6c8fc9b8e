package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue"
)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// TestWriteError: the one mapping from errors to answers. A server error's cause reaches
// the log with the request id and never the client.
func TestWriteError(t *testing.T) {
	t.Parallel()
	secret := "dial tcp 10.1.2.3:6379: connection refused"
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
		logged     bool // the cause is logged at error level
	}{
		{"api error", &Error{Status: 429, Code: "quota_exceeded", Message: "m", RetryAfter: 1500 * time.Millisecond}, 429, "quota_exceeded", "2", false},
		{"invalid sgf", fmt.Errorf("wrapped: %w", &game.Error{Code: game.CodeInvalidSGF, Msg: "bad"}), 400, "invalid_sgf", "", false},
		{"illegal move", &game.Error{Code: game.CodeIllegalMove, Move: 3, Msg: "occupied"}, 400, "illegal_move", "", false},
		{"sgf too large", &game.Error{Code: game.CodeTooLarge, Msg: "big"}, 413, "too_large", "", false},
		{"too many moves", &game.Error{Code: game.CodeTooManyMoves, Msg: "the game has more than 2 moves, the limit"}, 400, "too_many_moves", "", false},
		{"body too large", &http.MaxBytesError{Limit: 10}, 413, "too_large", "", false},
		{"job not found", fmt.Errorf("queue: %w", queue.ErrNotFound), 404, "not_found", "", false},
		{"job final", queue.ErrFinal, 409, "already_finished", "", false},
		{"client gone", context.Canceled, 499, "client_closed", "", false},
		{"timeout", context.DeadlineExceeded, 503, "unavailable", "5", false},
		{"queue closed", queue.ErrClosed, 503, "unavailable", "5", false},
		{"store cannot write", fmt.Errorf("queue: enqueue: %w", queue.ErrUnavailable), 503, "storage_unavailable", "30", false},
		{"owner cap", fmt.Errorf("queue: enqueue: %w", &queue.OwnerLimitError{Limit: queue.LimitJobs, Max: 10, Used: 10, Need: 1}), 403, "storage_limit", "", false},
		{"job not final", fmt.Errorf("queue: delete: %w", queue.ErrNotFinal), 409, "not_finished", "", false},
		{"anything else", errors.New(secret), 500, "internal", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			a := &API{log: slog.New(slog.NewJSONHandler(&logs, nil))}
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/analyses/x", nil)
			c.Set(loggerKey, a.log.With("request_id", "rid-1"))
			a.writeError(c, tt.err)
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			got := []string{fmt.Sprint(rec.Code), body.Error.Code, rec.Header().Get("Retry-After")}
			want := []string{fmt.Sprint(tt.status), tt.code, tt.retryAfter}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("status, code, Retry-After (-want +got):\n%s", diff)
			}
			if body.Error.Message == "" {
				t.Error("no message")
			}
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("the cause leaked to the client: %s", rec.Body)
			}
			logged := strings.Contains(logs.String(), `"level":"ERROR"`) && strings.Contains(logs.String(), secret) &&
				strings.Contains(logs.String(), `"request_id":"rid-1"`)
			if logged != tt.logged {
				t.Errorf("cause logged with the request id: %v, want %v\n%s", logged, tt.logged, logs.String())
			}
		})
	}
}
