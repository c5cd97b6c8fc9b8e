// Package client is the Go client of tesuji's HTTP API, used by `tesuji analyze` and the
// GTP bridge. It speaks the same JSON and Server-Sent Events as any other API client.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/tesuji/tesuji/katago"
)

// Client calls one tesuji server.
type Client struct {
	// BaseURL is the server's address, e.g. "http://127.0.0.1:8080".
	BaseURL string
	// Token is the API token sent as a bearer token; empty in open mode.
	Token string
	// HTTP is the HTTP client. Default: one with no overall timeout (streams are long),
	// connections reused.
	HTTP *http.Client
}

// New returns a client for baseURL.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{}}
}

// APIError is an error answer of the server.
type APIError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Created is the answer to a submission.
type Created struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Turns  int    `json:"turns"`
	// MaxVisits and Adaptive are the review's depth, the server's default filled in.
	MaxVisits int      `json:"maxVisits"`
	Adaptive  bool     `json:"adaptive"`
	Warnings  []string `json:"warnings,omitempty"`
}

// AnalysisOptions tune a submission.
type AnalysisOptions struct {
	MaxVisits        int
	Path             string
	IncludeOwnership bool
	// Adaptive asks for an adaptive review: every position at a fraction of the visits, the
	// moves that quick pass is least sure of again at MaxVisits.
	Adaptive bool
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

func decodeError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	ae := &APIError{Status: resp.StatusCode}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		ae.Code, ae.Message = e.Error.Code, e.Error.Message
	} else {
		ae.Code, ae.Message = "http_"+strconv.Itoa(resp.StatusCode), strings.TrimSpace(string(body))
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		ae.RetryAfter = time.Duration(s) * time.Second
	}
	return ae
}

// Submit uploads one game record (SGF, Tygem .gib or WBaduk .ngf) for a full review. It
// refuses a zip without sending it: the server takes a zip as a batch of games and answers
// for each, not as the one review Submit returns, so they would be queued unfollowed.
func (c *Client) Submit(ctx context.Context, name string, sgf []byte, opt AnalysisOptions) (*Created, error) {
	if strings.EqualFold(path.Ext(name), ".zip") {
		return nil, fmt.Errorf("client: %s is a zip, a batch of games: unpack it and submit each game record", name)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("sgf", name)
	if err != nil {
		return nil, err
	}
	fw.Write(sgf)
	if opt.MaxVisits > 0 {
		mw.WriteField("maxVisits", strconv.Itoa(opt.MaxVisits))
	}
	if opt.Path != "" {
		mw.WriteField("path", opt.Path)
	}
	if opt.IncludeOwnership {
		mw.WriteField("includeOwnership", "true")
	}
	if opt.Adaptive {
		mw.WriteField("adaptive", "true")
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.BaseURL+"/api/v1/analyses", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var cr Created
	if err := c.decode(req, "submission answer", &cr); err != nil {
		return nil, err
	}
	return &cr, nil
}

// getJSON sends a GET for path and decodes the JSON answer into v; what names the
// answer in a decoding error.
func (c *Client) getJSON(ctx context.Context, path, what string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.BaseURL+path, nil)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return c.decode(req, what, v)
}

// decode sends req and decodes the JSON answer into v; what names the answer in a
// decoding error.
func (c *Client) decode(req *http.Request, what string, v any) error {
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("client: decode %s: %w", what, err)
	}
	return nil
}

// Event is one Server-Sent Event.
type Event struct {
	ID   string
	Type string
	Data []byte
}

// ErrStreamEnded means the server closed an event stream before a terminal event.
var ErrStreamEnded = errors.New("client: event stream ended early")

// Stream reads the Server-Sent Events at path (after lastID) and calls fn for each,
// until fn returns stop=true, fn fails, the stream ends or ctx ends.
func (c *Client) Stream(ctx context.Context, path, lastID string, fn func(Event) (stop bool, err error)) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.BaseURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return readEvents(resp.Body, fn)
}

// readEvents parses an event stream.
func readEvents(r io.Reader, fn func(Event) (bool, error)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur Event
	var data bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return ErrStreamEnded
			}
			return fmt.Errorf("client: read events: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if cur.Type == "" && data.Len() == 0 {
				continue
			}
			if cur.Type == "" {
				cur.Type = "message"
			}
			cur.Data = bytes.Clone(data.Bytes())
			stop, err := fn(cur)
			if err != nil || stop {
				return err
			}
			cur = Event{}
			data.Reset()
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id:"):
			cur.ID = strings.TrimPrefix(strings.TrimPrefix(line, "id:"), " ")
		case strings.HasPrefix(line, "event:"):
			cur.Type = strings.TrimPrefix(strings.TrimPrefix(line, "event:"), " ")
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
}

// Follow streams an analysis' events until it ends, reconnecting with Last-Event-ID when
// the stream breaks: at once after a stream that brought new events, else after a wait
// that grows, giving up after followRetries breaks in a row without a new event. It
// returns nil when the analysis is done, an error when it failed or was cancelled, and
// fn's error as it is.
func (c *Client) Follow(ctx context.Context, id string, fn func(Event) error) error {
	lastID := ""
	var final, fnErr error
	for fails := 0; ; {
		progress := false
		err := c.Stream(ctx, "/api/v1/analyses/"+id+"/events", lastID, func(e Event) (bool, error) {
			lastID, progress = e.ID, true
			if err := fn(e); err != nil {
				fnErr = err
				return true, err
			}
			switch e.Type {
			case "done":
				return true, nil
			case "failed":
				final = fmt.Errorf("analysis failed: %s", errorText(e.Data))
				return true, nil
			case "cancelled":
				final = errors.New("analysis was cancelled")
				return true, nil
			}
			return false, nil
		})
		switch {
		case fnErr != nil:
			return fnErr
		case err == nil:
			return final
		}
		if progress {
			fails = 0
			continue
		}
		fails++
		var ae *APIError
		if ctx.Err() != nil || (errors.As(err, &ae) && ae.Status < 500) || fails > followRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Duration(fails)*500*time.Millisecond, 5*time.Second)):
		}
	}
}

// followRetries is how many times in a row Follow reconnects without getting a new
// event: its waits add up to about 30 s, time for a server to restart.
const followRetries = 10

func errorText(data []byte) string {
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != nil {
		if s, ok := e.Error.(string); ok {
			return s
		}
		if m, ok := e.Error.(map[string]any); ok {
			if msg, ok := m["message"].(string); ok {
				return msg
			}
		}
	}
	return string(data)
}

// failureCode is the code of a failed event's data (analysis.Failure's codes); "" when
// it has none.
func failureCode(data []byte) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(data, &e)
	return e.Code
}

// SGF downloads the annotated SGF of an analysis.
func (c *Client) SGF(ctx context.Context, id string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.BaseURL+"/api/v1/analyses/"+id+"/sgf", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Cancel cancels an analysis; one that has finished is kept.
func (c *Client) Cancel(ctx context.Context, id string) error {
	req, err := http.NewRequestWithContext(ctx, "DELETE", c.BaseURL+"/api/v1/analyses/"+id+"?cancel=true", nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Models returns the networks the server analyzes with, as KataGo's query_models
// describes them.
func (c *Client) Models(ctx context.Context) ([]katago.ModelInfo, error) {
	var body struct {
		Models []katago.ModelInfo `json:"models"`
	}
	if err := c.getJSON(ctx, "/api/v1/models", "models", &body); err != nil {
		return nil, err
	}
	return body.Models, nil
}

// Info is what GET /api/v1/info tells without a token: the server's limits and measured
// speed.
type Info struct {
	VisitsPerSecond float64 `json:"visitsPerSecond"`
	Workers         int     `json:"workers"`
	DefaultVisits   int     `json:"defaultVisits"`
	MaxVisits       int     `json:"maxVisits"`
	MaxMoves        int     `json:"maxMoves"`
}

// Info returns the server's limits and speed.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var info Info
	if err := c.getJSON(ctx, "/api/v1/info", "info", &info); err != nil {
		return nil, err
	}
	return &info, nil
}
