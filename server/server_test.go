package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestInteractiveEngines: by default each local engine has a second KataGo process beside
// it with the latency settings; SharedEngines leaves one process for both kinds of work.
func TestInteractiveEngines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		shared bool
		want   []string // the works of the katagoSettings lines
	}{
		{"interactive engine beside the review engine", false, []string{"reviews", "interactive"}},
		{"one shared engine", true, []string{"reviews"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := server.New(server.Config{Addr: "127.0.0.1:0", Engine: enginetest.Config(t, enginetest.EnvBackend+"=Eigen(CPU)"),
				SharedEngines: tt.shared, ShutdownGrace: time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := s.Stop(context.Background()); err != nil {
					t.Errorf("stop: %v", err)
				}
			})
			resp, err := http.Get("http://" + s.Addr() + "/api/v1/workers")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var ws struct {
				Workers []struct {
					KataGoSettings string `json:"katagoSettings"`
				} `json:"workers"`
			}
			if err := json.Unmarshal(body, &ws); err != nil || len(ws.Workers) != 1 {
				t.Fatalf("workers: %v: %s", err, body)
			}
			var works []string
			for _, line := range strings.Split(ws.Workers[0].KataGoSettings, "; ") {
				if w, _, ok := strings.Cut(line, ":"); ok && (w == "reviews" || w == "interactive") {
					works = append(works, w)
				}
			}
			if diff := cmp.Diff(tt.want, works); diff != "" {
				t.Errorf("engines by work (-want +got):\n%s\nkatagoSettings %q", diff, ws.Workers[0].KataGoSettings)
			}
		})
	}
}
