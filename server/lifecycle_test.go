package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/tesuji/tesuji/server"
)

func newServer(t *testing.T) *server.Server {
	return server.New(server.Config{
		Addr:     "127.0.0.1:0",
		DataFile: filepath.Join(t.TempDir(), "tesuji.db"),
		Engines:  -1, // no local engine: the lifecycle is what is under test
		Logger:   slog.New(slog.DiscardHandler),
	})
}

// TestStopBeforeStartAndTwice: Stop before Start is a no-op that leaves the server
// stopped, so a later Start fails.
func TestStopBeforeStartAndTwice(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for range 2 {
		if err := s.Stop(t.Context()); err != nil {
			t.Fatalf("Stop before Start: %v", err)
		}
	}
	if err := s.Start(t.Context()); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
}

// TestStartOnceStopTwice: a second Start fails and leaves the running server alone; Stop
// closes the listener and a second Stop returns the same result.
func TestStartOnceStopTwice(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	if err := s.Start(t.Context()); err == nil {
		t.Fatal("second Start succeeded")
	}
	url := "http://" + s.Addr() + "/healthz"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("server not serving after a second Start: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for range 2 {
		if err := s.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatal("server still serving after Stop")
	}
	if err := s.Start(t.Context()); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
}
