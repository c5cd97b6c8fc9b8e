package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/katago/transcript"
)

// The real KataGo runs the backend-independent tests when these name its binary and a
// network file.
const (
	envKataGo = "TESUJI_KATAGO"
	envModel  = "TESUJI_MODEL"
)

// backend builds engine configs for one kind of KataGo: the fake, or the real one.
type backend struct {
	name string
	real bool
	// config returns a config; env steers the fake and is ignored by the real engine.
	config func(t *testing.T, env ...string) engine.Config
}

// forBackends runs f against the fake and, when TESUJI_KATAGO and TESUJI_MODEL are set,
// against the real KataGo.
func forBackends(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		f(t, backend{name: "fake", config: func(t *testing.T, env ...string) engine.Config {
			return enginetest.Config(t, env...)
		}})
	})
	t.Run("katago", func(t *testing.T) {
		t.Parallel()
		bin, model := os.Getenv(envKataGo), os.Getenv(envModel)
		if bin == "" || model == "" {
			t.Skipf("set %s (the katago binary) and %s (a network file) to run this against the real KataGo", envKataGo, envModel)
		}
		f(t, backend{name: "katago", real: true, config: func(t *testing.T, env ...string) engine.Config {
			return engine.Config{
				Path:                           bin,
				Model:                          model,
				LogDir:                         t.TempDir(),
				AnalysisThreads:                2,
				SearchThreadsPerAnalysisThread: 1,
				ReadyTimeout:                   5 * time.Minute,
				TurnTimeout:                    5 * time.Minute,
				RestartBackoffMin:              10 * time.Millisecond,
			}
		}})
	})
}

// start starts an engine for cfg, stopped when the test ends.
func start(t *testing.T, cfg engine.Config) *engine.Engine {
	t.Helper()
	return enginetest.Start(t, cfg)
}

// queryFrom returns the in line of a transcript whose id is id, as a Query.
func queryFrom(t *testing.T, name, id string) *katago.Query {
	t.Helper()
	for _, line := range transcript.Select(transcript.Load(t, name), "in") {
		var q katago.Query
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			continue
		}
		if q.ID == id {
			return &q
		}
	}
	t.Fatalf("transcript %s has no query %q", name, id)
	return nil
}

// outFor returns the out lines of a transcript for id, decoded.
func outFor(t *testing.T, name, id string) []*katago.Response {
	t.Helper()
	var out []*katago.Response
	for _, line := range transcript.Select(transcript.Load(t, name), "out") {
		r := new(katago.Response)
		if err := json.Unmarshal([]byte(line), r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

// collector records what Analyze delivers; it is safe to read after Analyze returns.
type collector struct {
	mu       sync.Mutex
	all      []*katago.Response
	finals   map[int]*katago.Response
	partials map[int]int
	warnings []*katago.Response
	problems []string
}

func newCollector() *collector {
	return &collector{finals: map[int]*katago.Response{}, partials: map[int]int{}}
}

func (c *collector) add(r *katago.Response) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, r)
	switch {
	case r.Warning != "":
		c.warnings = append(c.warnings, r)
	case r.Partial():
		turn := *r.TurnNumber
		if c.finals[turn] != nil {
			c.problems = append(c.problems, "partial report after the final result of a turn")
		}
		c.partials[turn]++
	case r.Final():
		turn := *r.TurnNumber
		if c.finals[turn] != nil {
			c.problems = append(c.problems, "two final results for one turn")
		}
		c.finals[turn] = r
	default:
		c.problems = append(c.problems, "unexpected response: neither warning, partial nor final")
	}
	return nil
}

func (c *collector) check(t *testing.T) {
	t.Helper()
	for _, p := range c.problems {
		t.Error(p)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// traceFile returns a path the fake appends every line it reads to, and the env to set it.
func traceFile(t *testing.T) (string, string) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	return path, enginetest.EnvTrace + "=" + path
}

// tracedQueries reads back what the fake received.
func tracedQueries(t *testing.T, path string) []katago.Query {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []katago.Query
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var q katago.Query
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			t.Fatalf("traced line %q: %v", line, err)
		}
		out = append(out, q)
	}
	return out
}

func isTransient(err error) bool { return errors.Is(err, engine.ErrTransient) }
