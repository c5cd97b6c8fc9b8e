package api

import (
	"context"
	"testing"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/katago"
)

// stubEngine is an Engine whose state the test sets; pick reads only Ready, InFlight and
// Work.
type stubEngine struct {
	name     string
	ready    bool
	inFlight int
}

func (s *stubEngine) Analyze(context.Context, *katago.Query, func(*katago.Response) error) error {
	return nil
}
func (s *stubEngine) Version(context.Context) (katago.Version, error)    { return katago.Version{}, nil }
func (s *stubEngine) Models(context.Context) ([]katago.ModelInfo, error) { return nil, nil }
func (s *stubEngine) Ready() bool                                        { return s.ready }
func (s *stubEngine) InFlight() int                                      { return s.inFlight }
func (s *stubEngine) Restarts() int64                                    { return 0 }

// workEngine is a stubEngine that says what work its settings are for, as *engine.Engine does.
type workEngine struct {
	stubEngine
	work engine.Work
}

func (w *workEngine) Work() engine.Work { return w.work }

func TestDirectBackendPicksTheInteractiveEngine(t *testing.T) {
	t.Parallel()
	review := func(name string, ready bool, n int) Engine {
		return &workEngine{stubEngine{name, ready, n}, engine.WorkReviews}
	}
	inter := func(name string, ready bool, n int) Engine {
		return &workEngine{stubEngine{name, ready, n}, engine.WorkInteractive}
	}
	tests := []struct {
		name    string
		engines []Engine
		want    string
	}{
		{"an interactive engine, however busy, over an idle review engine",
			[]Engine{review("r", true, 0), inter("i", true, 5)}, "i"},
		{"the review engine while the interactive one restarts",
			[]Engine{inter("i", false, 0), review("r", true, 3)}, "r"},
		{"the least busy of the interactive engines",
			[]Engine{inter("i0", true, 4), review("r", true, 0), inter("i1", true, 1)}, "i1"},
		{"engines that do not say their work: the least busy",
			[]Engine{&stubEngine{"a", true, 2}, &stubEngine{"b", true, 1}}, "b"},
		{"none ready: the first, whose restart Analyze waits for",
			[]Engine{review("r", false, 0), inter("i", false, 0)}, "r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := directBackend{a: &API{cfg: Config{Engines: tt.engines}}}
			var got string
			switch e := b.pick().(type) {
			case *workEngine:
				got = e.name
			case *stubEngine:
				got = e.name
			}
			if got != tt.want {
				t.Errorf("pick() = %s, want %s", got, tt.want)
			}
		})
	}
}
