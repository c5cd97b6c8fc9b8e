package engine

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		out         string
		wantVersion string
		wantBackend Backend
	}{
		{"eigen", "KataGo v1.17.2\nGit revision: 0123abcd\nCompile Time: Dec  7 2026 03:10:00\nUsing Eigen(CPU) backend\nCompiled with AVX2 and FMA instructions\n", "1.17.2", BackendEigen},
		{"cuda", "KataGo v1.16.0\nGit revision: <omitted>\nCompile Time: Jan  1 2025 00:00:00\nUsing CUDA backend\nCompiled with CUDA version 12.5\n", "1.16.0", BackendCUDA},
		{"tensorrt", "KataGo v1.17.2\nGit revision: x\nCompile Time: x\nUsing TensorRT backend\nCompiled with TensorRT plan cache\n", "1.17.2", BackendTensorRT},
		{"opencl", "KataGo v1.15.3\r\nUsing OpenCL backend\r\n", "1.15.3", BackendOpenCL},
		{"metal", "KataGo v1.17.2\nUsing Metal backend\n", "1.17.2", BackendMetal},
		{"dummy", "KataGo v1.17.2\nGit revision: <omitted>\nCompile Time: <omitted>\nUsing dummy backend\n", "1.17.2", BackendDummy},
		{"garbage", "Usage: katago SUBCOMMAND\n", "", BackendUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, b := ParseVersion(tt.out)
			if v != tt.wantVersion || b != tt.wantBackend {
				t.Errorf("got %q, %q; want %q, %q", v, b, tt.wantVersion, tt.wantBackend)
			}
		})
	}
}

// TestFit is the choice of settings for a backend and a machine.
func TestFit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    Hardware
		want Fitted
	}{
		{"cpu, 2 cores", Hardware{Backend: BackendEigen, Cores: 2},
			Fitted{Reviews: Threads{4, 1, 2}, Interactive: Threads{1, 4, 2}}},
		{"cpu, 8 cores", Hardware{Backend: BackendEigen, Cores: 8},
			Fitted{Reviews: Threads{16, 1, 2}, Interactive: Threads{1, 16, 2}}},
		{"cpu, 16 cores", Hardware{Backend: BackendEigen, Cores: 16},
			Fitted{Reviews: Threads{32, 1, 2}, Interactive: Threads{2, 16, 2}}},
		{"cpu, 96 cores", Hardware{Backend: BackendEigen, Cores: 96},
			Fitted{Reviews: Threads{192, 1, 2}, Interactive: Threads{4, 48, 2}}},
		{"cpu, cores unknown", Hardware{Backend: BackendEigen},
			Fitted{Reviews: Threads{2, 1, 2}, Interactive: Threads{1, 2, 2}}},
		{"cuda, mid-range GPU", Hardware{Backend: BackendCUDA, Cores: 4, GPUs: []string{"Tesla T4"}},
			Fitted{Reviews: Threads{32, 1, 32}, Interactive: Threads{2, 16, 32}}},
		{"tensorrt, strong GPU", Hardware{Backend: BackendTensorRT, Cores: 26, GPUs: []string{"NVIDIA H100 80GB HBM3"}},
			Fitted{Reviews: Threads{64, 1, 64}, Interactive: Threads{2, 32, 64}}},
		{"opencl, GPU not visible", Hardware{Backend: BackendOpenCL, Cores: 8},
			Fitted{Reviews: Threads{32, 1, 32}, Interactive: Threads{2, 16, 32}}},
		{"cuda, L4", Hardware{Backend: BackendCUDA, Cores: 8, GPUs: []string{"NVIDIA L4", "NVIDIA L4"}},
			Fitted{Reviews: Threads{32, 1, 32}, Interactive: Threads{2, 16, 32}}},
		{"unknown backend", Hardware{Cores: 8},
			Fitted{Reviews: Threads{2, 8, 16}, Interactive: Threads{2, 8, 16}}},
		{"dummy backend", Hardware{Backend: BackendDummy, Cores: 8},
			Fitted{Reviews: Threads{2, 8, 16}, Interactive: Threads{2, 8, 16}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Fit(tt.h)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolve: the settings Config sets win over the fitted ones, field by field.
func TestResolve(t *testing.T) {
	t.Parallel()
	fit := Threads{32, 1, 32}
	tests := []struct {
		name string
		set  Threads
		want Threads
	}{
		{"nothing set", Threads{}, Threads{32, 1, 32}},
		{"everything set", Threads{4, 4, 12}, Threads{4, 4, 12}},
		{"analysis threads keep the total", Threads{AnalysisThreads: 8}, Threads{8, 4, 32}},
		{"search threads keep the total", Threads{SearchThreadsPerAnalysisThread: 8}, Threads{4, 8, 32}},
		{"more threads than the total", Threads{AnalysisThreads: 64}, Threads{64, 1, 64}},
		{"both threads, batch follows them", Threads{AnalysisThreads: 3, SearchThreadsPerAnalysisThread: 5}, Threads{3, 5, 15}},
		{"batch alone", Threads{MaxBatchSize: 8}, Threads{32, 1, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, resolve(tt.set, fit)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMeasurePoints: the measurement game is legal because no two stones ever touch.
func TestMeasurePoints(t *testing.T) {
	t.Parallel()
	pts := measurePoints()
	if len(pts) != 181 {
		t.Fatalf("%d points, want 181", len(pts))
	}
	seen := map[string]bool{}
	for _, p := range pts {
		if seen[p] {
			t.Fatalf("%s twice", p)
		}
		seen[p] = true
	}
	const letters = "ABCDEFGHJKLMNOPQRST"
	for _, p := range pts {
		x := strings.IndexByte(letters, p[0])
		y, err := strconv.Atoi(p[1:])
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			nx, ny := x+d[0], y+d[1]
			if nx < 0 || nx >= 19 || ny < 1 || ny > 19 {
				continue
			}
			if n := letters[nx:nx+1] + strconv.Itoa(ny); seen[n] {
				t.Fatalf("%s touches %s", p, n)
			}
		}
	}
}
