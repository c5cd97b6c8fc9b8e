package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/tesuji/tesuji/batch"
	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/server"
)

func runAnalyze(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "analyze", "[--server URL] [--visits N] [--adaptive] [-o DIR] FILE... (SGF, Tygem .gib or WBaduk .ngf records)")
	var (
		lf        logFlags
		ef        engineFlags
		serverURL = fs.String("server", "", "tesuji server to use (default: analyze in this process with a local KataGo)")
		token     = fs.String("token", "", "API token for --server")
		visits    = fs.Int("visits", 0, "visits per position (default: the server's, 500 in-process)")
		adaptive  = fs.Bool("adaptive", false, "adaptive review: every position at three tenths of --visits, the moves in doubt again at --visits")
		outDir    = fs.String("o", "", "directory for the annotated SGFs (default: beside each file, as NAME.analyzed.sgf)")
		parallel  = fs.Int("parallel", 4, "files analyzed at once")
	)
	// In process the embedded server logs only warnings unless asked for more.
	lf.registerLevel(fs, "warn")
	ef.register(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return errUsage
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	base := *serverURL
	if base == "" {
		// In process: the embedded server on a loopback port, so the same client code runs
		// either way.
		log, err := lf.logger(e.stderr)
		if err != nil {
			return err
		}
		ecfg, err := ef.config()
		if err != nil {
			return err
		}
		ecfg.Logger = log
		// A scratch store: a batch run keeps nothing, and stays off the data of a serve.
		dir, err := os.MkdirTemp("", "tesuji-analyze-")
		if err != nil {
			return fmt.Errorf("scratch store: %w", err)
		}
		defer os.RemoveAll(dir)
		s := server.New(server.Config{Addr: "127.0.0.1:0", Engine: ecfg, Logger: log, DataFile: filepath.Join(dir, "tesuji.db"),
			// Reviews alone: no process kept for interactive requests.
			InteractiveEngines: server.InteractiveOff})
		if err := s.Start(ctx); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			_ = s.Stop(sctx)
		}()
		base = "http://" + s.Addr()
	}
	terminal := false
	if f, ok := e.stdout.(*os.File); ok {
		terminal = term.IsTerminal(int(f.Fd()))
	}
	_, failures := batch.Run(ctx, batch.Config{
		Client:    client.New(base, *token),
		MaxVisits: *visits,
		Adaptive:  *adaptive,
		OutDir:    *outDir,
		Parallel:  *parallel,
		Terminal:  terminal,
		Out:       e.stdout,
	}, files)
	if len(failures) == 0 {
		return nil
	}
	for _, f := range failures {
		fmt.Fprintln(e.stderr, "tesuji: analyze:", f.Error())
	}
	return errors.New(plural(len(failures), "file") + " failed")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
