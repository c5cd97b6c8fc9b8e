package batch_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/batch"
	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/server"
)

// TestRunRecordFormats analyzes an SGF, a Tygem .gib and a WBaduk .ngf record as
// `tesuji analyze` does: each gets its annotated SGF, holding the game of the file, and a
// file of another kind fails with its kind named.
func TestRunRecordFormats(t *testing.T) {
	t.Parallel()
	c := startServer(t)

	in, out := t.TempDir(), t.TempDir()
	records := []string{"ogs.sgf", "tygem_korean.gib", "wbaduk_handicap.ngf"}
	var files []string
	want := map[string]*game.Game{}
	for _, name := range records {
		data, err := os.ReadFile(filepath.Join("..", "game", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := game.Parse(data, game.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(in, name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
		want[batch.OutputPath(file, out)] = rec.Game
	}
	pdf := filepath.Join(in, "scan.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	written, failures := batch.Run(context.Background(),
		batch.Config{Client: c, MaxVisits: 10, OutDir: out}, append(files, pdf))

	if len(failures) != 1 || failures[0].File != pdf ||
		!strings.Contains(failures[0].Err.Error(), "this looks like a PDF file") {
		t.Errorf("failures = %v, want the PDF named as such", failures)
	}
	if len(written) != len(records) {
		t.Fatalf("written = %v, want %d files", written, len(records))
	}
	for _, path := range written {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := game.ParseSGF(data, game.ParseOptions{})
		if err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		if diff := cmp.Diff(want[path], rec.Game); diff != "" {
			t.Errorf("%s holds another game (-record +annotated):\n%s", path, diff)
		}
	}
}

// startServer starts tesuji in process on the fake engine and returns a client of it.
func startServer(t *testing.T) *client.Client {
	t.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Engine: enginetest.Config(t),
		DataFile: filepath.Join(t.TempDir(), "tesuji.db"),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)), ShutdownGrace: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start server: %v", err)
	}
	c := client.New("http://"+srv.Addr(), "")
	t.Cleanup(func() {
		// Idle keep-alive connections count as busy in http.Server.Shutdown.
		c.HTTP.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})
	return c
}

// TestRunAdaptiveProgress: the progress of an adaptive review goes by the visits it plans,
// so the end of the quick pass is not its end, and counts the turns searched again.
func TestRunAdaptiveProgress(t *testing.T) {
	t.Parallel()
	c := startServer(t)
	file := filepath.Join(t.TempDir(), "review.sgf")
	data, err := os.ReadFile(filepath.Join("..", "web", "testdata", "review.sgf")) // 120 moves
	if err != nil {
		t.Fatal(err)
	}
	rec, err := game.Parse(data, game.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	written, failures := batch.Run(context.Background(),
		batch.Config{Client: c, MaxVisits: 64, Adaptive: true, Out: &out}, []string{file})
	if len(failures) != 0 || len(written) != 1 {
		t.Fatalf("written %v, failures %v", written, failures)
	}

	turns := len(rec.Game.Moves) + 1
	deep := analysis.DeepBudget(turns, 64)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; last != "review.sgf  wrote "+written[0] {
		t.Errorf("the last line %q, want the file written", last)
	}
	lines = lines[:len(lines)-1]
	line := regexp.MustCompile(`^review\.sgf  +(\d+)% (\d+)/(\d+) turns, (\d+)/(\d+) searched deeper$`)
	prev, quickDone := -1, false
	for _, l := range lines {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("progress line %q", l)
		}
		pct, done, total, deepDone, deepTotal := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3]), atoi(t, m[4]), atoi(t, m[5])
		if pct/10 <= prev/10 || total != turns || deepTotal != deep || done > total || deepDone > deepTotal {
			t.Errorf("progress line %q after %d%%: want a new tenth, %d turns, %d to search again", l, prev, turns, deep)
		}
		if done == total && deepDone < deepTotal {
			quickDone = true
			if pct >= 100 {
				t.Errorf("%q: the quick pass done reads as the whole review", l)
			}
		}
		prev = pct
	}
	if !quickDone {
		t.Errorf("no line shows the quick pass done and the deeper searches to come:\n%s", out.String())
	}
	if want := fmt.Sprintf("review.sgf  100%% %d/%d turns, %d/%d searched deeper", turns, turns, deep, deep); lines[len(lines)-1] != want {
		t.Errorf("the last progress line %q, want %q", lines[len(lines)-1], want)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunKeepsEveryGame: two files of the same name in other folders, written to one
// output directory, each get an annotated SGF of their own, holding their own game.
func TestRunKeepsEveryGame(t *testing.T) {
	t.Parallel()
	c := startServer(t)
	in, out := t.TempDir(), t.TempDir()
	players := map[string]string{"club": "Alice", "league": "Carol"}
	var files []string
	for _, dir := range []string{"club", "league"} {
		f := filepath.Join(in, dir, "game.sgf")
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(`(;GM[1]FF[4]SZ[9]KM[7]PB[`+players[dir]+`]PW[Bob];B[ee];W[cc])`), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	written, failures := batch.Run(context.Background(), batch.Config{Client: c, MaxVisits: 5, OutDir: out}, files)
	if len(failures) != 0 {
		t.Fatalf("failures: %v", failures)
	}
	want := map[string]string{filepath.Join(out, "game.analyzed.sgf"): "Alice", filepath.Join(out, "game-2.analyzed.sgf"): "Carol"}
	if len(written) != 2 {
		t.Fatalf("written %v, want %v", written, want)
	}
	for path, black := range want {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := game.ParseSGF(data, game.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Game.BlackName != black {
			t.Errorf("%s holds %s's game, want %s's", path, rec.Game.BlackName, black)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 2 {
		t.Errorf("%d files in the output directory, want 2 (no temporary file left)", len(entries))
	}
}

// TestRunShowsWarnings: what the server warns of a submission (an adaptive review asked
// for below the depth it needs runs uniform) reaches the user with the file's line.
func TestRunShowsWarnings(t *testing.T) {
	t.Parallel()
	c := startServer(t)
	f := filepath.Join(t.TempDir(), "g.sgf")
	if err := os.WriteFile(f, []byte(`(;GM[1]FF[4]SZ[9]KM[7];B[ee];W[cc])`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	written, failures := batch.Run(context.Background(), batch.Config{Client: c, MaxVisits: 32, Adaptive: true, Out: &out}, []string{f})
	if len(written) != 1 || len(failures) != 0 {
		t.Fatalf("written %v, failures %v", written, failures)
	}
	if !strings.Contains(out.String(), "(warning: ") || !strings.Contains(out.String(), "adaptive") {
		t.Errorf("the output does not pass the server's warning on:\n%s", out.String())
	}
}
