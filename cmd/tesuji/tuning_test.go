package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/engine/enginetest"
)

// TestWorkersShowKataGoSettings: the settings fitted to KataGo's backend and the machine
// are shown in the worker registry.
func TestWorkersShowKataGoSettings(t *testing.T) {
	t.Parallel()
	p := startServe(t, []string{enginetest.EnvBackend + "=Eigen(CPU)"}, "--search-threads", "3")
	_, body := get(t, p.url+"/api/v1/workers")
	var ws struct {
		Workers []struct {
			KataGoSettings string `json:"katagoSettings"`
		} `json:"workers"`
	}
	if err := json.Unmarshal(body, &ws); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(ws.Workers) != 1 {
		t.Fatalf("workers: %s", body)
	}
	got := ws.Workers[0].KataGoSettings
	for _, want := range []string{"Eigen", "x 3 search threads", "(set)"} {
		if !strings.Contains(got, want) {
			t.Errorf("katagoSettings %q lacks %q", got, want)
		}
	}
}
