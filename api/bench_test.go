package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/redistest"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// BenchmarkTokenCheck: the cost auth adds to every request, per store.
func BenchmarkTokenCheck(b *testing.B) {
	stores := map[string]func(b *testing.B) api.TokenStore{
		"file": func(b *testing.B) api.TokenStore {
			return api.NewSQLiteTokens(sqlitetest.DB(b))
		},
		"redis": func(b *testing.B) api.TokenStore {
			return api.NewRedisTokens(redistest.Start(b, redistest.Options{}).Client(b), "")
		},
	}
	for name, open := range stores {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			for i := range 100 {
				if _, _, err := s.Create(ctx, fmt.Sprint("t", i)); err != nil {
					b.Fatal(err)
				}
			}
			tok, _, err := s.Create(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Check(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSubmitAnalysis: POST /api/v1/analyses of a short game through the whole
// handler (token, quota, SGF parsing, validation, enqueue) into the memory queue.
func BenchmarkSubmitAnalysis(b *testing.B) {
	q := sqlitetest.Open(b, queue.SQLiteConfig{MaxOwnerJobs: -1, MaxOwnerBytes: -1})
	b.Cleanup(func() { q.Close() })
	tokens := api.NewSQLiteTokens(sqlitetest.DB(b))
	tok, _, err := tokens.Create(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	a := api.New(api.Config{Queue: q, Tokens: tokens, PositionsPerHour: 1 << 30,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := a.Handler()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		// Distinct games, so none collapses into an earlier job.
		sgf := fmt.Sprintf("(;GM[1]FF[4]SZ[19]KM[%d.5]RU[Japanese];B[pd];W[dp];B[pq];W[dd];B[fq];W[cn])", i%200-100)
		body, _ := json.Marshal(map[string]any{"sgf": sgf, "maxVisits": 1 + i/200})
		req := httptest.NewRequest(http.MethodPost, "/api/v1/analyses", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
