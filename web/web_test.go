package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/game"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// built is a dist/ as build.mjs lays it out.
func built(t *testing.T) fstest.MapFS {
	t.Helper()
	return fstest.MapFS{
		"index.html":               {Data: []byte(`<!doctype html><script type="module" src="/assets/app-AB12.js"></script>`)},
		"index.html.gz":            {Data: gz(t, "index")},
		"assets/app-AB12.js":       {Data: []byte("console.log('tesuji')")},
		"assets/app-AB12.js.gz":    {Data: gz(t, "console.log('tesuji')")},
		"assets/app-CD34.css":      {Data: []byte("body{}")},
		"assets/board-EF56.png":    {Data: []byte("\x89PNG\r\n\x1a\n")},
		"assets/fonts/.keep":       {Data: []byte{}},
		"assets/fonts/readme.txt":  {Data: []byte("fonts")},
		"sizes.json":               {Data: []byte("{}")},
		"assets/.hidden-AB12.json": {Data: []byte("{}")},
	}
}

type response struct {
	Status   int
	Type     string
	Encoding string
	Cache    string
	Body     string
	CSP      bool
}

func serve(t *testing.T, h http.Handler, method, target string, header map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s %s: no X-Content-Type-Options: nosniff", method, target)
	}
	r := response{
		Status:   res.StatusCode,
		Type:     res.Header.Get("Content-Type"),
		Encoding: res.Header.Get("Content-Encoding"),
		Cache:    res.Header.Get("Cache-Control"),
		CSP:      strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'"),
	}
	if r.Encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s %s: gzip body: %v", method, target, err)
		}
		body, _ = io.ReadAll(zr)
	}
	if r.Status == http.StatusOK {
		r.Body = string(body)
	}
	return r
}

// TestHandler serves the page at its addresses, the built assets, and 404 elsewhere.
func TestHandler(t *testing.T) {
	t.Parallel()
	h := NewHandler(built(t))
	index := string(built(t)["index.html"].Data)
	page := response{Status: 200, Type: "text/html; charset=utf-8", Cache: "no-cache", Body: index, CSP: true}
	immutable := "public, max-age=31536000, immutable"
	for _, tc := range []struct {
		name   string
		method string
		target string
		header map[string]string
		want   response
	}{
		{"root", "GET", "/", nil, page},
		{"index.html", "GET", "/index.html", nil, page},
		{"review link", "GET", "/review/k3fq7xw2mz5a4bn6c7d2e3f4g5", nil, page},
		{"review link with a slash", "GET", "/review/abc/", nil, page},
		{"review link with a move", "GET", "/review/abc?x=1", nil, page},
		{"head of the page", "HEAD", "/review/abc", nil, response{Status: 200, Type: "text/html; charset=utf-8", Cache: "no-cache", CSP: true}},
		{"review without an id", "GET", "/review/", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"review of a path", "GET", "/review/a/b", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"review id with a dot", "GET", "/review/a.b", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"player page", "GET", "/player/Lee%20Sedol?names=lee+sedol", nil, page},
		{"player page of a name outside ASCII", "GET", "/player/%E6%9D%8E%E4%B8%96%E4%B9%AD", nil, page},
		{"player page of a pair, the names joined by a slash", "GET", "/player/Cho%20U%2FIyama%20Yuta", nil, page},
		{"player page of a long name", "GET", "/player/" + url.PathEscape(strings.Repeat("이세돌", 100)), nil, page},
		{"player without a name", "GET", "/player/", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"player of a path", "GET", "/player/a/b", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"script", "GET", "/assets/app-AB12.js", nil, response{Status: 200, Type: "text/javascript; charset=utf-8", Cache: immutable, Body: "console.log('tesuji')"}},
		{"script, gzip", "GET", "/assets/app-AB12.js", map[string]string{"Accept-Encoding": "br, gzip"}, response{Status: 200, Type: "text/javascript; charset=utf-8", Encoding: "gzip", Cache: immutable, Body: "console.log('tesuji')"}},
		{"script, gzip refused", "GET", "/assets/app-AB12.js", map[string]string{"Accept-Encoding": "gzip;q=0, br"}, response{Status: 200, Type: "text/javascript; charset=utf-8", Cache: immutable, Body: "console.log('tesuji')"}},
		{"stylesheet without a gzip copy", "GET", "/assets/app-CD34.css", map[string]string{"Accept-Encoding": "gzip"}, response{Status: 200, Type: "text/css; charset=utf-8", Cache: immutable, Body: "body{}"}},
		{"image", "GET", "/assets/board-EF56.png", nil, response{Status: 200, Type: "image/png", Cache: immutable, Body: "\x89PNG\r\n\x1a\n"}},
		{"missing asset", "GET", "/assets/app-0000.js", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"asset directory", "GET", "/assets/fonts", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"assets root", "GET", "/assets/", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"hidden asset", "GET", "/assets/.hidden-AB12.json", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"escape from assets", "GET", "/assets/../sizes.json", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"file outside assets", "GET", "/sizes.json", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"unknown page", "GET", "/settings", nil, response{Status: 404, Type: "text/plain; charset=utf-8"}},
		{"post", "POST", "/", nil, response{Status: 405, Type: "text/plain; charset=utf-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := serve(t, h, tc.method, tc.target, tc.header)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", tc.method, tc.target, diff)
			}
		})
	}
}

// TestIndexRevalidates checks that a browser holding the page gets a 304 until the
// build changes.
func TestIndexRevalidates(t *testing.T) {
	t.Parallel()
	h := NewHandler(built(t))
	req := httptest.NewRequest("GET", "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("the page has no ETag")
	}
	req = httptest.NewRequest("GET", "/review/abc", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidating with the page's ETag: %d, want 304", rec.Code)
	}
	other := built(t)
	other["index.html"] = &fstest.MapFile{Data: []byte("<!doctype html><p>a new build")}
	rec = httptest.NewRecorder()
	NewHandler(other).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("revalidating against a new build: %d, want 200", rec.Code)
	}
}

// TestNotBuilt is what a binary built without the UI serves.
func TestNotBuilt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
	}{
		{"no assets", nil},
		{"assets without index.html", fstest.MapFS{"assets/app.js": {Data: []byte("x")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h http.Handler
			if tc.fsys == nil {
				h = NewHandler(nil)
			} else {
				h = NewHandler(tc.fsys)
			}
			for _, target := range []string{"/", "/review/abc"} {
				got := serve(t, h, "GET", target, nil)
				if got.Status != http.StatusOK || !strings.Contains(got.Body, "make build") || !strings.Contains(got.Body, "not built") {
					t.Errorf("GET %s: %d %q, want the page that says how to build the UI", target, got.Status, got.Body)
				}
			}
			if got := serve(t, h, "GET", "/assets/none.js", nil); got.Status != http.StatusNotFound {
				t.Errorf("GET /assets/none.js without a built UI: %d, want 404", got.Status)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		"":                        false,
		"gzip":                    true,
		"GZIP":                    true,
		"br, gzip, deflate":       true,
		"gzip;q=0":                false,
		"gzip; q=0.0, br":         false,
		"gzip;q=0.5":              true,
		"*":                       true,
		"*;q=0":                   false,
		"identity":                false,
		"deflate, br;q=1":         false,
		"x-gzip":                  false,
		" gzip ; q = 1 , br;q=.2": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestClassesMatchGame keeps the page's mistake classes those of the game package, in
// the same order and with the same bounds.
func TestClassesMatchGame(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("src/classes.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Classes []struct {
			Name    string   `json:"name"`
			MinLoss *float64 `json:"minLoss"`
			Color   string   `json:"color"`
		} `json:"classes"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	var got []game.Threshold
	for _, c := range file.Classes {
		min := math.Inf(-1)
		if c.MinLoss != nil {
			min = *c.MinLoss
		}
		got = append(got, game.Threshold{Class: c.Name, MinLoss: min})
		if len(c.Color) != 7 || c.Color[0] != '#' {
			t.Errorf("class %s has the colour %q, want #rrggbb", c.Name, c.Color)
		}
	}
	var want []game.Threshold
	for _, th := range game.Thresholds {
		if th.MinLoss < -1e300 {
			th.MinLoss = math.Inf(-1) // the catch-all class: no lower bound
		}
		want = append(want, th)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("src/classes.json against game.Thresholds (-game +web):\n%s", diff)
	}
}

// TestServesRebuilds serves a dist/ directory that a watching build rewrites: each
// request sees the latest page.
func TestServesRebuilds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/assets", 0o755); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(os.DirFS(dir))
	for _, build := range []string{"app-AAAA.js", "app-BBBB.js"} {
		page := `<script type="module" src="/assets/` + build + `"></script>`
		if err := os.WriteFile(dir+"/index.html", []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/assets/"+build, []byte("// "+build), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := serve(t, h, "GET", "/", nil); got.Body != page {
			t.Errorf("GET / after building %s: %q", build, got.Body)
		}
		if got := serve(t, h, "GET", "/assets/"+build, nil); got.Body != "// "+build {
			t.Errorf("GET /assets/%s: %d %q", build, got.Status, got.Body)
		}
	}
}
