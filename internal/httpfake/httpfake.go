// Package httpfake holds the HTTP plumbing that the fakes of AWS endpoints share: a
// loopback server closed with the test, and an in-memory client for tests inside a
// testing/synctest bubble, where a loopback connection would keep the bubble from ever
// being idle.
package httpfake

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Serve starts h on a loopback httptest server, closed by t.Cleanup, and returns its URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Client is an in-memory HTTP client: Do runs the handler in the caller's goroutine.
type Client struct{ Handler http.Handler }

// Do serves req with the handler and returns the recorded response.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	c.Handler.ServeHTTP(rec, req)
	return rec.Result(), nil
}
