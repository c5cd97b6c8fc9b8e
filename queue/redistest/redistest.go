// Package redistest owns the real redis-server that tests run against: Start launches one
// (Debian's redis-server, which `make test` installs) on a free port or a unix socket with
// its data in a temporary directory, waits until it answers PING, and stops it when the test
// ends. Restart, Kill, Pause and Proxy make the faults that the queue must survive.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options chooses how the server runs. The zero value is a TCP server on a free port with
// nothing persisted.
type Options struct {
	// Unix listens on a unix socket in a temporary directory instead of a TCP port.
	Unix bool
	// AOF turns on the append-only file with appendfsync everysec, so what was written
	// survives Restart (up to the last second, as in production).
	AOF bool
	// Cluster starts a one-node Redis Cluster that owns every slot: a command or script that
	// spans slots fails with CROSSSLOT as it would on a cluster of many nodes. Not with Unix.
	Cluster bool
	// Config holds extra redis.conf lines ("maxmemory 64mb").
	Config []string
}

// readyTimeout bounds how long a start (or a restart that replays an AOF) may take.
const readyTimeout = 15 * time.Second

// Server is one redis-server process and the directory it keeps its data in.
type Server struct {
	opt  Options
	bin  string
	dir  string
	conf string
	port int
	sock string
	log  *logBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Start launches a redis-server for the test and stops it (SIGKILL) when the test ends; a
// failed test's log shows the server's output. It fails the test when redis-server is not
// installed.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	if opt.Cluster && opt.Unix {
		t.Fatal("redistest: a cluster listens on TCP; Unix and Cluster do not go together")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		bin = "/usr/bin/redis-server"
		if _, serr := os.Stat(bin); serr != nil {
			t.Fatalf("redistest: redis-server is not installed (make test installs it; or apt-get install redis-server): %v", err)
		}
	}
	s := &Server{opt: opt, bin: bin, dir: t.TempDir(), log: &logBuffer{}}
	s.conf = filepath.Join(s.dir, "redis.conf")
	if opt.Unix {
		s.sock = filepath.Join(s.dir, "redis.sock")
		if len(s.sock) > 100 { // sun_path holds about 108 bytes
			short, err := os.MkdirTemp("", "redis")
			if err != nil {
				t.Fatalf("redistest: %v", err)
			}
			t.Cleanup(func() { os.RemoveAll(short) })
			s.sock = filepath.Join(short, "redis.sock")
		}
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("redis-server output:\n%s", s.log.tail(16<<10))
		}
	})
	// A free port can be taken by someone else between the probe and the bind: try again.
	for try := 0; ; try++ {
		if !opt.Unix {
			s.port = freePort(t)
		}
		s.writeConf(t)
		err := s.start()
		if err == nil {
			break
		}
		if try < 5 && strings.Contains(s.log.String(), "Address already in use") {
			continue
		}
		t.Fatalf("redistest: %v\n%s", err, s.log.tail(8<<10))
	}
	if opt.Cluster {
		s.assignSlots(t)
	}
	return s
}

// Addr is host:port, or the socket's path.
func (s *Server) Addr() string {
	if s.sock != "" {
		return s.sock
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// URL is the server's address in the form queue.OpenRedis takes: redis://host:port,
// unix:///path, or redis+cluster://host:port.
func (s *Server) URL() string {
	switch {
	case s.sock != "":
		return "unix://" + s.sock
	case s.opt.Cluster:
		return "redis+cluster://" + s.Addr()
	}
	return "redis://" + s.Addr()
}

// Client returns a client of the server, a cluster client for a cluster, closed when the
// test ends.
func (s *Server) Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	switch {
	case s.opt.Cluster:
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{s.Addr()}})
	case s.sock != "":
		c = redis.NewClient(&redis.Options{Network: "unix", Addr: s.sock})
	default:
		c = redis.NewClient(&redis.Options{Addr: s.Addr()})
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Restart kills the server (SIGKILL, as a crash would) if it runs and starts it again on
// the same address and data directory; with Options.AOF it comes back with its data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.kill()
	if err := s.start(); err != nil {
		t.Fatalf("redistest: restart: %v\n%s", err, s.log.tail(8<<10))
	}
	if s.opt.Cluster {
		s.waitClusterOK(t)
	}
}

// Kill stops the server with SIGKILL and leaves it down until Restart.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.kill()
}

// Pause suspends every client's commands for d (CLIENT PAUSE ALL) and returns at once:
// commands sent meanwhile run when the pause ends.
func (s *Server) Pause(t testing.TB, d time.Duration) {
	t.Helper()
	c := s.nodeClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, "CLIENT", "PAUSE", d.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatalf("redistest: client pause: %v", err)
	}
}

// Log returns what the server has written to its log so far, over every restart.
func (s *Server) Log() string { return s.log.String() }

// nodeClient talks to this one node, even when it is a cluster node.
func (s *Server) nodeClient() *redis.Client {
	if s.sock != "" {
		return redis.NewClient(&redis.Options{Network: "unix", Addr: s.sock, MaxRetries: -1})
	}
	return redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
}

func (s *Server) writeConf(t testing.TB) {
	t.Helper()
	lines := []string{
		"bind 127.0.0.1",
		"port " + strconv.Itoa(s.port),
		"dir " + s.dir,
		"daemonize no",
		"logfile \"\"",
		"save \"\"",
		"appendonly no",
	}
	if s.sock != "" {
		lines = append(lines, "unixsocket "+s.sock, "unixsocketperm 700")
	}
	if s.opt.AOF {
		lines = append(lines, "appendonly yes", "appendfsync everysec")
	}
	if s.opt.Cluster {
		lines = append(lines, "cluster-enabled yes", "cluster-config-file nodes.conf",
			"cluster-announce-ip 127.0.0.1", "cluster-node-timeout 5000")
	}
	lines = append(lines, s.opt.Config...)
	if err := os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
}

// start launches the process and waits until it answers PING.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.conf)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	cmd.Dir = s.dir
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	c := s.nodeClient()
	defer c.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited before it was ready: %v", cmd.ProcessState)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redis-server not ready after %v: %w", readyTimeout, err)
		}
	}
}

func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

func (s *Server) stop() { s.kill() }

// assignSlots makes the node own every slot, then waits for the cluster to be usable.
func (s *Server) assignSlots(t testing.TB) {
	t.Helper()
	c := s.nodeClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("redistest: cluster addslotsrange: %v", err)
	}
	s.waitClusterOK(t)
}

func (s *Server) waitClusterOK(t testing.TB) {
	t.Helper()
	c := s.nodeClient()
	defer c.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := c.ClusterInfo(ctx).Result()
		cancel()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: cluster not ok after %v: %v\n%s", readyTimeout, err, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freePort asks the kernel for a port nobody listens on.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuffer collects the server's output across restarts.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n bytes of the log, from a line start.
func (b *logBuffer) tail(n int) string {
	s := b.String()
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// Info returns one section of INFO as a map, from this node.
func (s *Server) Info(t testing.TB, section string) map[string]string {
	t.Helper()
	c := s.nodeClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := c.Info(ctx, section).Result()
	if err != nil {
		t.Fatalf("redistest: info %s: %v", section, err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

// WaitAOFWritten waits until everything the server has acknowledged is written to its
// append-only file (in the kernel's hands, so a SIGKILL cannot lose it).
func (s *Server) WaitAOFWritten(t testing.TB) {
	t.Helper()
	if !s.opt.AOF {
		t.Fatal("redistest: WaitAOFWritten without Options.AOF")
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		info := s.Info(t, "persistence")
		if info["aof_enabled"] == "1" && info["aof_buffer_length"] == "0" && info["aof_last_write_status"] == "ok" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the append-only file is still behind: %v", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
