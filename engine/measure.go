package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tesuji/tesuji/internal/atomicfile"
	"github.com/tesuji/tesuji/katago"
)

// TuningCacheFile is the file in Config.CacheDir that keeps measured settings.
const TuningCacheFile = "katago-tuning.json"

// measureVisits is the search of each measured position: long enough for batches to form
// and the tree to matter, short enough that a candidate takes seconds on a GPU.
const measureVisits = 64

// trial is one measured candidate.
type trial struct {
	Total           int     `json:"totalThreads"`
	VisitsPerSecond float64 `json:"visitsPerSecond"`
}

// measurement is the cached result of measuring one binary, network and device.
type measurement struct {
	Binary          string    `json:"binary"`
	Model           string    `json:"model"`
	Device          string    `json:"device"`
	Backend         Backend   `json:"backend"`
	Best            int       `json:"bestTotalThreads"`
	VisitsPerSecond float64   `json:"visitsPerSecond"`
	Trials          []trial   `json:"trials"`
	MeasuredAt      time.Time `json:"measuredAt"`
}

// tuningCache is the cache file: measurements by key.
type tuningCache struct {
	Entries map[string]measurement `json:"entries"`
}

// fileID identifies a file's version by its path, size and modification time.
func fileID(path string) (string, error) {
	if !strings.ContainsRune(path, filepath.Separator) {
		if p, err := exec.LookPath(path); err == nil {
			path = p
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%d|%d", abs, st.Size(), st.ModTime().UnixNano()), nil
}

// deviceID names the device a process runs on: the GPU model and the device index.
func deviceID(c Config, h Hardware) string {
	dev := "default"
	if c.Device != nil {
		dev = strconv.Itoa(*c.Device)
	}
	gpu := strings.Join(h.GPUs, ",")
	if c.Device != nil && *c.Device >= 0 && *c.Device < len(h.GPUs) {
		gpu = h.GPUs[*c.Device]
	}
	return fmt.Sprintf("%s|%s|device %s", h.Backend, gpu, dev)
}

// cacheKey is the measurement's key: binary, network and device.
func cacheKey(c Config, h Hardware) (key, binary, model, device string, err error) {
	if binary, err = fileID(c.Path); err != nil {
		return "", "", "", "", fmt.Errorf("katago binary: %w", err)
	}
	if model, err = fileID(c.Model); err != nil {
		return "", "", "", "", fmt.Errorf("network: %w", err)
	}
	device = deviceID(c, h)
	sum := sha256.Sum256([]byte(binary + "\x00" + model + "\x00" + device))
	return hex.EncodeToString(sum[:16]), binary, model, device, nil
}

func readTuningCache(path string) (tuningCache, error) {
	c := tuningCache{Entries: map[string]measurement{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return tuningCache{Entries: map[string]measurement{}}, fmt.Errorf("%s: %w", path, err)
	}
	if c.Entries == nil {
		c.Entries = map[string]measurement{}
	}
	return c, nil
}

// writeTuningCache replaces the cache file atomically, so a reader never sees half of it.
func writeTuningCache(path string, c tuningCache) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}

// measured returns the measurement for this binary, network and device: from the cache,
// or measured now and cached.
func (e *Engine) measured(ctx context.Context, h Hardware) (measurement, string, error) {
	key, binary, model, device, err := cacheKey(e.cfg, h)
	if err != nil {
		return measurement{}, "", err
	}
	path := filepath.Join(e.cfg.CacheDir, TuningCacheFile)
	cache, err := readTuningCache(path)
	if err != nil {
		e.log.Warn("engine: unreadable katago tuning cache; measuring again", "path", path, "err", err)
	}
	if m, ok := cache.Entries[key]; ok && m.Best > 0 {
		return m, SourceCached, nil
	}
	e.log.Info("engine: measuring katago thread settings for this binary, network and device (once)", "device", device)
	m, err := e.measure(ctx, h)
	if err != nil {
		return measurement{}, "", err
	}
	m.Binary, m.Model, m.Device, m.Backend = binary, model, device, h.Backend
	cache.Entries[key] = m
	if err := writeTuningCache(path, cache); err != nil {
		e.log.Warn("engine: write katago tuning cache", "path", path, "err", err)
	}
	return m, SourceMeasured, nil
}

// measureCandidates are the total thread counts tried around the fitted one.
func measureCandidates(base int) []int {
	return []int{max(base/2, 2), base, base * 2}
}

// measure runs KataGo with each candidate's throughput settings on a fixed set of
// positions, as `katago benchmark` does for GTP, and keeps the fastest; a candidate
// within 3% of the fastest with fewer threads wins, since fewer threads per batch also
// evaluate better per visit.
func (e *Engine) measure(ctx context.Context, h Hardware) (measurement, error) {
	m := measurement{MeasuredAt: time.Now().UTC()}
	for _, total := range measureCandidates(gpuTotal(h.GPU(e.cfg.Device))) {
		vps, err := e.measureOne(ctx, h, total)
		if err != nil {
			if ctx.Err() != nil {
				return m, err
			}
			e.log.Warn("engine: measure katago", "total_threads", total, "err", err)
			continue
		}
		e.log.Info("engine: measured katago", "total_threads", total, "visits_per_second", vps)
		m.Trials = append(m.Trials, trial{Total: total, VisitsPerSecond: vps})
	}
	for _, t := range m.Trials {
		if t.VisitsPerSecond > m.VisitsPerSecond {
			m.VisitsPerSecond = t.VisitsPerSecond
		}
	}
	for _, t := range m.Trials {
		if t.VisitsPerSecond >= 0.97*m.VisitsPerSecond {
			m.Best, m.VisitsPerSecond = t.Total, t.VisitsPerSecond
			break
		}
	}
	if m.Best == 0 {
		return m, errNoMeasurement
	}
	return m, nil
}

// measureOne starts KataGo with total analysis threads of one search thread each and
// returns the visits per second it searches measurePositions at once.
func (e *Engine) measureOne(ctx context.Context, h Hardware, total int) (float64, error) {
	c := e.cfg
	c.AnalysisThreads, c.SearchThreadsPerAnalysisThread, c.MaxBatchSize = total, 1, total
	c.Work, c.InteractiveThreads, c.CacheDir, c.Hardware = WorkReviews, Threads{}, "", &h
	en := New(c)
	if err := en.Start(ctx); err != nil {
		return 0, err
	}
	defer en.Stop(context.WithoutCancel(ctx))
	// A first small query loads what the backend loads lazily; it is not timed.
	if _, err := searchVisits(ctx, en, min(total, 8), 8); err != nil {
		return 0, err
	}
	n := min(len(measurePoints()), total+total/2)
	start := time.Now()
	visits, err := searchVisits(ctx, en, n, measureVisits)
	if err != nil {
		return 0, err
	}
	secs := time.Since(start).Seconds()
	if visits == 0 || secs <= 0 {
		return 0, errNoMeasurement
	}
	return float64(visits) / secs, nil
}

// searchVisits searches the first n positions of the measurement game at visits each and
// returns the visits KataGo reports.
func searchVisits(ctx context.Context, en *Engine, n, visits int) (int, error) {
	pts := measurePoints()
	moves := make([]katago.Move, n)
	turns := make([]int, n)
	for i := range n {
		player := "B"
		if i%2 == 1 {
			player = "W"
		}
		moves[i] = katago.Move{player, pts[i]}
		turns[i] = i
	}
	komi := 7.5
	q := &katago.Query{Moves: moves[:n-1], Rules: json.RawMessage(`"chinese"`), Komi: &komi, BoardXSize: 19, BoardYSize: 19,
		AnalyzeTurns: turns, MaxVisits: &visits}
	total := 0
	err := en.Analyze(ctx, q, func(r *katago.Response) error {
		if r.Final() && r.RootInfo != nil {
			total += r.RootInfo.Visits
		}
		return nil
	})
	return total, err
}

// measurePoints is a legal 19x19 game of 181 moves in which no stone ever touches
// another: the points whose coordinates are both even or both odd, so nothing is ever
// captured and every position is a real, distinct one.
func measurePoints() []string {
	const letters = "ABCDEFGHJKLMNOPQRST"
	var pts []string
	for y := range 19 {
		for x := range 19 {
			if x%2 == y%2 {
				pts = append(pts, letters[x:x+1]+strconv.Itoa(y+1))
			}
		}
	}
	return pts
}
