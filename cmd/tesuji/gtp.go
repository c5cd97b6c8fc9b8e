package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tesuji/tesuji/gtp"
)

func runGTP(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "gtp", "--server URL [flags]")
	var (
		lf             logFlags
		server         = fs.String("server", "", "URL of the tesuji server, e.g. http://gpu-box:8080 (required)")
		token          = fs.String("token", "", "API token of the server, if it asks for one")
		logFile        = fs.String("log-file", "", "append logs to this file (default: no logs, as stdout carries only GTP)")
		logStderr      = fs.Bool("log-stderr", false, "send logs to stderr (Lizzie shows stderr in its GTP console)")
		rules          = fs.String("rules", "tromp-taylor", "rules a session starts with, as kata-set-rules takes them")
		visits         = fs.Int("visits", 10000000, "visits of each kata-analyze / lz-analyze search; above the server's cap it runs until the next command")
		genmoveVisits  = fs.Int("genmove-visits", 0, "visits of each genmove search (default: the server's)")
		genmoveTimeout = fs.Duration("genmove-timeout", 2*time.Minute, "longest wait for the server's answer to genmove")
		connectTimeout = fs.Duration("connect-timeout", 5*time.Second, "longest wait to connect to the server")
		retry          = fs.Duration("retry", time.Second, "first wait before an analysis tries an unreachable server again")
	)
	lf.register(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	if *server == "" {
		fs.Usage()
		return errors.New("gtp: --server (or TESUJI_SERVER) is required")
	}
	var logw io.Writer = io.Discard
	switch {
	case *logFile != "":
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("gtp: open log file: %w", err)
		}
		defer f.Close()
		logw = f
	case *logStderr:
		logw = e.stderr
	}
	var log *slog.Logger
	if logw == io.Discard {
		log = slog.New(slog.DiscardHandler)
	} else {
		l, err := lf.logger(logw)
		if err != nil {
			return err
		}
		log = l
	}
	b, err := gtp.New(gtp.Config{
		Server:         *server,
		Token:          *token,
		ConnectTimeout: *connectTimeout,
		Logger:         log,
		Rules:          *rules,
		AnalysisVisits: *visits,
		GenmoveVisits:  *genmoveVisits,
		GenmoveTimeout: *genmoveTimeout,
		RetryInterval:  *retry,
	})
	if err != nil {
		return err
	}
	log.Info("tesuji gtp started", "server", *server)
	err = b.Serve(ctx, e.stdin, e.stdout)
	if errors.Is(err, context.Canceled) {
		// Interrupted (the GUI closed the engine): a normal end.
		return nil
	}
	return err
}
