package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/server"
)

// startServer starts a server with no engines over a memory queue.
func startServer(t *testing.T, cfg server.Config) (*server.Server, queue.Queue) {
	t.Helper()
	q := queue.NewMemory(queue.MemoryConfig{})
	t.Cleanup(func() { q.Close() })
	cfg.Addr, cfg.Queue, cfg.Engines = "127.0.0.1:0", q, -1
	s := server.New(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s, q
}

// TestStalledUploadDropped: a client that sends its headers and then stalls in its body
// is cut off after ReadTimeout instead of holding a connection and a goroutine forever.
func TestStalledUploadDropped(t *testing.T) {
	t.Parallel()
	s, _ := startServer(t, server.Config{ReadTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/analyses HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-go-sgf\r\nContent-Length: 1000\r\n\r\n(;GM[1]", s.Addr())
	// Generous: the server gives up after 200ms; only a server that never does fails.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server still waits for the stalled body")
	}
	if err == nil && resp.StatusCode < 400 {
		t.Errorf("a stalled upload was answered %d", resp.StatusCode)
	}
}

// TestStreamOutlivesServerTimeouts: an event stream runs past the server's read and
// write timeouts to its end: streams lift both.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	s, q := startServer(t, server.Config{ReadTimeout: timeout, WriteTimeout: timeout,
		API: api.Config{KeepAlive: 20 * time.Millisecond}})
	ctx := context.Background()
	if _, _, err := q.Enqueue(ctx, &queue.Job{ID: "long", Payload: []byte("{}"), Turns: []int{0}}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/api/v1/analyses/long/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	// Keep-alives come at least KeepAlive apart, so 20 of them outlast both timeouts.
	for keepAlives := 0; keepAlives < 20; {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream broke after %d keep-alives: %v", keepAlives, err)
		}
		if strings.HasPrefix(line, ": keep-alive") {
			keepAlives++
		}
	}
	if err := q.Cancel(ctx, "long"); err != nil {
		t.Fatal(err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream broke before its end: %v", err)
		}
		if line == "event: cancelled\n" {
			return
		}
	}
}
