package batch_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
