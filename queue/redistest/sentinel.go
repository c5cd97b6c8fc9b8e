package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartSentinel starts a Redis Sentinel (redis-server --sentinel) that monitors the server
// as master under masterName, stopped when the test ends, and returns its host:port once
// it knows the master.
func (s *Server) StartSentinel(t testing.TB, masterName string) string {
	t.Helper()
	if s.sock != "" {
		t.Fatal("redistest: a sentinel monitors a TCP server")
	}
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\n", port, dir, masterName, s.port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	log := &logBuffer{}
	cmd := exec.Command(s.bin, conf, "--sentinel")
	cmd.Stdout, cmd.Stderr, cmd.Dir = log, log, dir
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start sentinel: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("redis sentinel output:\n%s", log.tail(16<<10))
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		got, err := c.GetMasterAddrByName(ctx, masterName).Result()
		cancel()
		if err == nil && len(got) == 2 && got[1] == strconv.Itoa(s.port) {
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("redistest: sentinel exited: %v\n%s", cmd.ProcessState, log.tail(8<<10))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: sentinel does not know master %s after %v: %v, %v", masterName, readyTimeout, got, err)
		}
	}
}
