// Package batch analyzes game records (SGF, Tygem .gib, WBaduk .ngf) through a tesuji server and
// writes annotated SGFs: what `tesuji analyze` does, with a progress bar per file on a terminal
// and plain lines otherwise.
package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/internal/atomicfile"
)

// Config configures a batch run.
type Config struct {
	// Client reaches the server. Required.
	Client *client.Client
	// MaxVisits per position; 0 means the server's default.
	MaxVisits int
	// Adaptive asks for adaptive reviews: every position at a fraction of the visits, the
	// moves that quick pass is least sure of again at MaxVisits. Default false: uniform reviews.
	Adaptive bool
	// OutDir receives NAME.analyzed.sgf for each input; default: beside each input.
	OutDir string
	// Parallel is how many files are submitted at once. Default 4.
	Parallel int
	// Terminal draws live progress bars (ANSI); otherwise one line per file and event.
	Terminal bool
	// Out receives progress; Default io.Discard.
	Out io.Writer
}

// Failure is one file that could not be analyzed.
type Failure struct {
	File string
	Err  error
}

func (f Failure) Error() string { return f.File + ": " + f.Err.Error() }

// Run analyzes files and returns the paths written and the files that failed.
func Run(ctx context.Context, cfg Config, files []string) (written []string, failures []Failure) {
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	p := newProgress(cfg.Out, cfg.Terminal, files)
	outs := outputPaths(files, cfg.OutDir)
	var mu sync.Mutex
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out := outs[i]
			warnings, err := analyzeFile(ctx, cfg, f, out, func(pr analysis.Progress) { p.update(i, pr, "") })
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.update(i, analysis.Progress{}, "failed: "+err.Error())
				failures = append(failures, Failure{File: f, Err: err})
				return
			}
			msg := "wrote " + out
			if len(warnings) > 0 {
				msg += " (warning: " + strings.Join(warnings, "; ") + ")"
			}
			p.update(i, analysis.Progress{}, msg)
			written = append(written, out)
		}()
	}
	wg.Wait()
	return written, failures
}

// OutputPath is where the annotated SGF of file goes when no other file of the same run
// goes there first (see Run).
func OutputPath(file, outDir string) string {
	return outputPath(file, outDir, 1)
}

// outputPath is OutputPath with a number n > 1 added to the name: NAME-n.analyzed.sgf.
func outputPath(file, outDir string, n int) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if n > 1 {
		base += fmt.Sprintf("-%d", n)
	}
	base += ".analyzed.sgf"
	if outDir != "" {
		return filepath.Join(outDir, base)
	}
	return filepath.Join(filepath.Dir(file), base)
}

// outputPaths chooses each file's output: OutputPath, or for a file whose name another
// file of the run already takes (club/game.sgf and league/game.sgf with an output
// directory, game.sgf and game.gib beside each other), the first NAME-n.analyzed.sgf free
// in the run, so that no annotated game overwrites another. Names that differ only in
// case count as the same, as they do on macOS and Windows.
func outputPaths(files []string, outDir string) []string {
	taken := map[string]bool{}
	outs := make([]string, len(files))
	for i, f := range files {
		for n := 1; ; n++ {
			out := outputPath(f, outDir, n)
			if key := strings.ToLower(filepath.Clean(out)); !taken[key] {
				taken[key], outs[i] = true, out
				break
			}
		}
	}
	return outs
}

// analyzeFile reviews file, writes its annotated SGF to out and returns the server's
// warnings about it.
func analyzeFile(ctx context.Context, cfg Config, file, out string, progress func(analysis.Progress)) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	created, err := cfg.Client.Submit(ctx, filepath.Base(file), data, client.AnalysisOptions{MaxVisits: cfg.MaxVisits, Adaptive: cfg.Adaptive})
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) {
			return nil, errors.New(ae.Message)
		}
		return nil, err
	}
	// The visits of each turn's latest result, all its progress needs: an adaptive review
	// sends a turn again when it searches it deeper.
	spec := &analysis.Spec{MaxVisits: created.MaxVisits, Adaptive: created.Adaptive}
	latest := map[int]game.Turn{}
	progress(spec.Progress(created.Turns, nil))
	err = cfg.Client.Follow(ctx, created.ID, func(e client.Event) error {
		if e.Type != "turn" {
			return nil
		}
		var t struct {
			Turn        int `json:"turn"`
			Visits      int `json:"visits"`
			VisitsSpent int `json:"visitsSpent"`
		}
		if err := json.Unmarshal(e.Data, &t); err != nil {
			return fmt.Errorf("bad turn event: %w", err)
		}
		latest[t.Turn] = game.Turn{Turn: t.Turn, Visits: t.Visits, VisitsSpent: t.VisitsSpent}
		progress(spec.Progress(created.Turns, slices.Collect(maps.Values(latest))))
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = cfg.Client.Cancel(cctx, created.ID)
			cancel()
		}
		return nil, err
	}
	sgf, err := cfg.Client.SGF(ctx, created.ID)
	if err != nil {
		return nil, err
	}
	// Written whole or not at all, so an interrupted run leaves no half-written game.
	return created.Warnings, atomicfile.WriteFile(out, sgf, 0o644)
}

// progress draws one line per file: a bar on a terminal, plain lines otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	names    []string
	lines    []string
	drawn    bool
	lastPct  []int
}

func newProgress(w io.Writer, terminal bool, files []string) *progress {
	p := &progress{w: w, terminal: terminal, lines: make([]string, len(files)), lastPct: make([]int, len(files))}
	width := 0
	for _, f := range files {
		width = max(width, len(filepath.Base(f)))
	}
	for i, f := range files {
		p.names = append(p.names, fmt.Sprintf("%-*s", width, filepath.Base(f)))
		p.lines[i] = "waiting"
		p.lastPct[i] = -1
	}
	return p
}

func (p *progress) update(i int, pr analysis.Progress, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg == "" {
		words := fmt.Sprintf("%d/%d turns", pr.Done, pr.Total)
		if pr.DeepTotal > 0 {
			words += fmt.Sprintf(", %d/%d searched deeper", pr.DeepDone, pr.DeepTotal)
		}
		if p.terminal {
			const width = 30
			fill := width * pr.Percent / 100
			msg = fmt.Sprintf("[%s%s] %3d%% %s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), pr.Percent, words)
		} else {
			// Plain output: a line per tenth of the work, not per turn.
			if pr.Percent/10 == p.lastPct[i]/10 {
				return
			}
			p.lastPct[i] = pr.Percent
			msg = fmt.Sprintf("%3d%% %s", pr.Percent, words)
		}
	}
	p.lines[i] = msg
	if !p.terminal {
		fmt.Fprintf(p.w, "%s  %s\n", p.names[i], msg)
		return
	}
	p.redraw()
}

func (p *progress) redraw() {
	if p.drawn {
		fmt.Fprintf(p.w, "\x1b[%dA", len(p.lines))
	}
	for i, l := range p.lines {
		fmt.Fprintf(p.w, "\r\x1b[2K%s  %s\n", p.names[i], l)
	}
	p.drawn = true
}
