package httpfake_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/internal/httpfake"
)

func teapot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Path", r.URL.Path)
	w.WriteHeader(http.StatusTeapot)
	io.WriteString(w, "short and stout")
}

type answer struct {
	Status int
	Path   string
	Body   string
}

func read(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return answer{Status: resp.StatusCode, Path: resp.Header.Get("X-Path"), Body: string(body)}
}

func TestServeAndClientAnswerAlike(t *testing.T) {
	t.Parallel()
	want := answer{Status: http.StatusTeapot, Path: "/pot", Body: "short and stout"}
	url := httpfake.Serve(t, http.HandlerFunc(teapot))
	tests := []struct {
		name string
		do   func(*http.Request) (*http.Response, error)
	}{
		{"loopback server", http.DefaultClient.Do},
		{"in-memory client", (&httpfake.Client{Handler: http.HandlerFunc(teapot)}).Do},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), "GET", url+"/pot", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tt.do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if diff := cmp.Diff(want, read(t, resp)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientRefusesAnEndedContext(t *testing.T) {
	t.Parallel()
	called := false
	c := &httpfake.Client{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://fake/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("Do with an ended context: %v, want %v", err, context.Canceled)
	}
	if called {
		t.Error("the handler ran for a request whose context had ended")
	}
}
