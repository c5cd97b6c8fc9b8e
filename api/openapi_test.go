package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// TestOpenAPIMatchesRouter walks gin's routes and the document's operations both ways:
// every route is documented and every documented operation is served.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	t.Cleanup(func() { q.Close() })
	a := New(Config{Queue: q})

	var served []string
	for _, r := range a.router.Routes() {
		// A catch-all (a player's name, which may hold a slash) is one path parameter.
		served = append(served, r.Method+" "+strings.Replace(r.Path, "/*", "/:", 1))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
	}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				documented = append(documented, strings.ToUpper(method)+" "+param.ReplaceAllString(path, ":$1"))
			case "parameters", "summary", "description":
			default:
				t.Errorf("path %s has an unknown key %q", path, method)
			}
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("routes served (-) and documented (+) differ:\n%s", diff)
	}
}

// TestOpenAPIReferencesResolve: every $ref names a component the document has, and every
// operation documents its answers.
func TestOpenAPIReferencesResolve(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(doc, ref) {
					t.Errorf("%s: $ref %q does not resolve", path, ref)
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	walk("", doc)
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			o := op.(map[string]any)
			if rs, _ := o["responses"].(map[string]any); len(rs) == 0 {
				t.Errorf("%s %s documents no responses", method, path)
			}
			if o["operationId"] == nil {
				t.Errorf("%s %s has no operationId", method, path)
			}
		}
	}
}

func resolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for part := range strings.SplitSeq(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPIServed: the document is served as JSON without a token.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	q := sqlitetest.Open(t, queue.SQLiteConfig{})
	t.Cleanup(func() { q.Close() })
	a := New(Config{Queue: q, Tokens: NewSQLiteTokens(sqlitetest.DB(t))})
	rec := newRecorder()
	req, _ := http.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}
