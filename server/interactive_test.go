package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
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

// TestInteractiveEngines: a local engine gets a second KataGo process beside it with the
// latency settings on a GPU backend by default, or whenever asked; on a CPU by default, or
// when asked, one process serves both kinds of work.
func TestInteractiveEngines(t *testing.T) {
	t.Parallel()
	both := []string{"reviews", "interactive"}
	tests := []struct {
		name    string
		backend string
		mode    server.Interactive
		want    []string // the works of the katagoSettings lines
	}{
		{"GPU, auto", "CUDA", server.InteractiveAuto, both},
		{"CPU, auto", "Eigen(CPU)", server.InteractiveAuto, []string{"reviews"}},
		{"CPU, on", "Eigen(CPU)", server.InteractiveOn, both},
		{"GPU, off", "TensorRT", server.InteractiveOff, []string{"reviews"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := server.New(server.Config{Addr: "127.0.0.1:0", Engine: enginetest.Config(t, enginetest.EnvBackend+"="+tt.backend),
				InteractiveEngines: tt.mode, ShutdownGrace: time.Second, DataFile: filepath.Join(t.TempDir(), "tesuji.db")})
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
