package gtp

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/server"
)

// fakeEnv makes the fake KataGo search at 1000 visits per second, so an analysis with the
// bridge's large visit limit runs until it is stopped, and a genmove of a few visits is
// quick.
var fakeEnv = []string{enginetest.EnvVisitsPerSec + "=1000"}

// startServer starts a tesuji server (API, a SQLite store in the test's temporary directory, one fake KataGo) on addr
// ("127.0.0.1:0" for any port) and stops it when the test ends.
func startServer(tb testing.TB, addr string) *server.Server {
	tb.Helper()
	return startServerWith(tb, addr, api.Config{})
}

// startServerWith is startServer with the API configured by acfg.
func startServerWith(tb testing.TB, addr string, acfg api.Config) *server.Server {
	tb.Helper()
	cfg := enginetest.Config(tb, fakeEnv...)
	cfg.Logger = slog.New(slog.DiscardHandler)
	s := server.New(server.Config{
		Addr:          addr,
		DataFile:      filepath.Join(tb.TempDir(), "tesuji.db"),
		Engine:        cfg,
		API:           acfg,
		ShutdownGrace: time.Second,
		Logger:        slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		tb.Fatalf("start server: %v", err)
	}
	tb.Cleanup(func() { stopServer(tb, s) })
	return s
}

func stopServer(tb testing.TB, s *server.Server) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		tb.Errorf("stop server: %v", err)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// line is one line the bridge wrote, with the time it was read.
type line struct {
	text string
	at   time.Time
}

// gui drives a bridge the way a GUI does: it writes commands to the bridge's stdin and
// reads its stdout line by line.
type gui struct {
	tb    testing.TB
	in    io.WriteCloser
	lines chan line
	done  chan error // Serve's result
	logs  *logBuffer
}

// startBridge runs a bridge on pipes for cfg (Server defaults to srv's address) and
// ends it when the test ends.
func startBridge(tb testing.TB, cfg Config) *gui {
	tb.Helper()
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 50 * time.Millisecond
	}
	b, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	g := &gui{tb: tb, in: inW, lines: make(chan line, 4096), done: make(chan error, 1), logs: logs}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		err := b.Serve(ctx, inR, outW)
		outW.Close()
		g.done <- err
	}()
	go func() {
		defer close(g.lines)
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			g.lines <- line{text: sc.Text(), at: time.Now()}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		inW.Close()
		select {
		case <-g.done:
		case <-time.After(10 * time.Second):
			tb.Errorf("the bridge did not stop within 10s")
		}
		inR.Close()
		for range g.lines {
		}
		if tb.Failed() {
			tb.Logf("bridge log:\n%s", logs.String())
		}
	})
	return g
}

// send writes one command line.
func (g *gui) send(cmd string) {
	g.tb.Helper()
	if _, err := io.WriteString(g.in, cmd+"\n"); err != nil {
		g.tb.Fatalf("send %q: %v", cmd, err)
	}
}

// next returns the next line the bridge writes, failing the test after timeout.
func (g *gui) next(timeout time.Duration) line {
	g.tb.Helper()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l, ok := <-g.lines:
		if !ok {
			g.tb.Fatalf("the bridge closed its output")
		}
		return l
	case <-t.C:
		g.tb.Fatalf("no line from the bridge within %s", timeout)
	}
	return line{}
}

// answer reads one complete answer: the lines up to the blank line that ends it.
func (g *gui) answer(timeout time.Duration) []string {
	g.tb.Helper()
	var out []string
	for {
		l := g.next(timeout)
		if l.text == "" {
			return out
		}
		out = append(out, l.text)
	}
}

// do sends a command and returns its answer, lines joined by "\n".
func (g *gui) do(cmd string) string {
	g.tb.Helper()
	g.send(cmd)
	return strings.Join(g.answer(30*time.Second), "\n")
}

// logBuffer collects the bridge's log for assertions and for failing tests.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startProgram starts a GTP program with pipes to its stdin and stdout, and ends it when
// the test ends: stdin is closed, and the process killed if it has not exited 10s later.
func startProgram(t *testing.T, path string, args ...string) (io.WriteCloser, io.Reader) {
	t.Helper()
	cmd := exec.Command(path, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return in, out
}
