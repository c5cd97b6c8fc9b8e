package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// PositionRequest is the body of POST /api/v1/positions: one position given by its move
// list (with the board, komi and rules), or by an SGF and a variation path, and how to
// search it. Zero fields are left to the server's defaults; ReportEvery applies to
// StreamPosition only.
type PositionRequest = analysis.PositionRequest

// positionBody is what goes on the wire: the request and whether to stream.
type positionBody struct {
	PositionRequest
	Stream bool `json:"stream,omitempty"`
}

func (c *Client) postPosition(ctx context.Context, req *PositionRequest, stream bool) (*http.Response, error) {
	body := positionBody{PositionRequest: *req, Stream: stream}
	if body.Moves == nil {
		body.Moves = []katago.Move{}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("client: encode position: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, "POST", c.BaseURL+"/api/v1/positions", bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if stream {
		hreq.Header.Set("Accept", "text/event-stream")
	}
	return c.do(hreq)
}

// Position analyzes one position and returns KataGo's final result for it (Black's point
// of view, as the API reports). It waits as long as the search takes; bound it with ctx.
func (c *Client) Position(ctx context.Context, req *PositionRequest) (*game.Turn, error) {
	resp, err := c.postPosition(ctx, req, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var t game.Turn
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return nil, fmt.Errorf("client: decode position result: %w", err)
	}
	return &t, nil
}

// ErrAnalysisFailed is returned (wrapped, with the server's message) when the server
// reports that the analysis of a position failed or was cancelled.
var ErrAnalysisFailed = errors.New("client: analysis failed")

// ErrInterrupted is returned (wrapped, with the server's message) when the server's
// worker shut down before an open-ended analysis (more visits than the server's limit)
// made its first report. Nothing was wrong with the request: asking again goes on with
// the search on another worker, as after a final result marked interrupted.
var ErrInterrupted = errors.New("client: analysis interrupted by the server")

// StreamPosition analyzes one position and calls fn with every partial report of the
// search (final false) and then with the final result (final true), each the moment the
// server sends it. It returns nil after the server's done event; ErrStreamEnded when the
// connection ends first (a server restart); an error wrapping ErrInterrupted when a
// worker's shutdown ended an open-ended search before its first report; an error wrapping
// ErrAnalysisFailed when the server says the analysis failed or was cancelled; fn's error
// as it is. Ending ctx closes
// the request, which makes the server stop KataGo's search at once.
func (c *Client) StreamPosition(ctx context.Context, req *PositionRequest, fn func(t *game.Turn, final bool) error) error {
	resp, err := c.postPosition(ctx, req, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var done bool
	err = readEvents(resp.Body, func(e Event) (bool, error) {
		switch e.Type {
		case "partial", "turn":
			var t game.Turn
			if err := json.Unmarshal(e.Data, &t); err != nil {
				return true, fmt.Errorf("client: decode %s event: %w", e.Type, err)
			}
			return false, fn(&t, e.Type == "turn")
		case "done":
			done = true
			return true, nil
		case "failed", "cancelled":
			if e.Type == "failed" && failureCode(e.Data) == analysis.FailureInterrupted {
				return true, fmt.Errorf("%w: %s", ErrInterrupted, errorText(e.Data))
			}
			return true, fmt.Errorf("%w: %s: %s", ErrAnalysisFailed, e.Type, errorText(e.Data))
		case "error":
			// The server's stream broke (its queue is unreachable); the search may go on,
			// but this connection will see nothing more of it.
			return true, fmt.Errorf("%w: %s", ErrStreamEnded, errorText(e.Data))
		}
		return false, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("client: stream position: %w", context.Cause(ctx))
		}
		return err
	}
	if !done {
		return ErrStreamEnded
	}
	// Drain what little may follow so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return nil
}
