// Package transcript reads the recorded KataGo sessions in ../shared/katago/transcripts, the
// ground truth the engine package and its fake are tested against.
package transcript

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Line is one recorded line: what was written to KataGo ("in") or what it printed ("out"),
// at T seconds after the engine said it was ready.
type Line struct {
	Dir  string  `json:"dir"`
	T    float64 `json:"t"`
	Line string  `json:"line"`
}

// Dir returns the transcripts directory, found beside the repository root. The repository
// is always checked out with shared/ next to it, so a missing directory fails the test.
func Dir(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatalf("transcript: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(filepath.Dir(dir), "shared", "katago", "transcripts")
			if _, err := os.Stat(d); err != nil {
				tb.Fatalf("transcript: the recorded KataGo sessions are missing beside the repository: %v", err)
			}
			return d
		}
		if filepath.Dir(dir) == dir {
			tb.Fatalf("transcript: no go.mod above %s", wd)
		}
	}
}

// Names returns the transcript names (file names without .jsonl), sorted.
func Names(tb testing.TB) []string {
	tb.Helper()
	matches, err := filepath.Glob(filepath.Join(Dir(tb), "*.jsonl"))
	if err != nil {
		tb.Fatalf("transcript: %v", err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".jsonl"))
	}
	sort.Strings(names)
	if len(names) == 0 {
		tb.Fatalf("transcript: no transcripts in %s", Dir(tb))
	}
	return names
}

// Load returns the lines of the transcript whose name starts with prefix ("01" or
// "01-basic-multi-turn").
func Load(tb testing.TB, prefix string) []Line {
	tb.Helper()
	var name string
	for _, n := range Names(tb) {
		if strings.HasPrefix(n, prefix) {
			if name != "" {
				tb.Fatalf("transcript: prefix %q names both %s and %s", prefix, name, n)
			}
			name = n
		}
	}
	if name == "" {
		tb.Fatalf("transcript: no transcript named %q", prefix)
	}
	f, err := os.Open(filepath.Join(Dir(tb), name+".jsonl"))
	if err != nil {
		tb.Fatalf("transcript: %v", err)
	}
	defer f.Close()
	var lines []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("transcript: %s: %v", name, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("transcript: %s: %v", name, err)
	}
	return lines
}

// Select returns the lines of one direction, "in" or "out".
func Select(lines []Line, dir string) []string {
	var out []string
	for _, l := range lines {
		if l.Dir == dir {
			out = append(out, l.Line)
		}
	}
	return out
}
