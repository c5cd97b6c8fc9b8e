package api_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
)

// serveAPI serves a over loopback until the test ends, closing its streams first.
func serveAPI(t *testing.T, a *api.API) *env {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a.CloseStreams(ctx)
		srv.Close()
	})
	return &env{url: srv.URL, http: srv.Client()}
}

// TestStalledStreamDropped: an event stream whose client reads nothing is dropped once
// a write has waited StreamWriteTimeout, instead of holding its goroutine and buffers for
// as long as the job runs.
func TestStalledStreamDropped(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory(queue.MemoryConfig{})
	t.Cleanup(func() { q.Close() })
	e := serveAPI(t, api.New(api.Config{Queue: q, KeepAlive: time.Minute, StreamWriteTimeout: 200 * time.Millisecond}))
	ctx := context.Background()
	if _, _, err := q.Enqueue(ctx, &queue.Job{ID: "stall", Payload: []byte("{}"), Turns: []int{0}}); err != nil {
		t.Fatal(err)
	}
	_, lease, err := q.Claim(ctx, "w1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// A client that asks for the stream and then never reads.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /api/v1/analyses/stall/events HTTP/1.1\r\nHost: %s\r\n\r\n", conn.RemoteAddr())
	waitFor(t, "the stream to open", func() bool { return e.scrape(t)["tesuji_sse_clients"] == 1 })

	// More than every socket buffer between them holds.
	big := bytes.Repeat([]byte("x"), 256<<10)
	for range 64 {
		if err := q.Publish(ctx, lease, queue.EventProgress, big); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the stalled stream to be dropped", func() bool { return e.scrape(t)["tesuji_sse_clients"] == 0 })

	// What the client got is a well-formed start of the stream.
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	io.Copy(io.Discard, resp.Body)
}
