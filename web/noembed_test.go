//go:build !webui

package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestHandlerWithoutUI is the handler of a plain go build: the page says how to build
// the UI.
func TestHandlerWithoutUI(t *testing.T) {
	t.Parallel()
	if Built() {
		t.Fatal("Built() = true in a build without the webui tag")
	}
	got := serve(t, Handler(), "GET", "/", nil)
	if got.Status != http.StatusOK || !strings.Contains(got.Body, "make build") {
		t.Errorf("GET /: %d %q, want the page that says how to build the UI", got.Status, got.Body)
	}
}
