// Package web owns tesuji's browser UI: the page where a player uploads a game and
// reviews KataGo's analysis as it arrives, and the handler that serves it from the same
// origin as the API.
//
// The UI is built with npm and esbuild (package.json, build.mjs, src/) into dist/.
// Binaries built with the tag webui embed dist/; without the tag (plain go build, go
// vet, go test) the handler serves a page that says how to build the UI, so Go tooling
// never needs Node.
package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Built reports whether this binary embeds the built UI (it was built with -tags webui).
func Built() bool { return assets() != nil }

// Handler serves the UI built into this binary, or, in a binary built without it, a
// page that says how to build it. The API hands it every path outside /api.
func Handler() http.Handler { return NewHandler(assets()) }

// NewHandler serves the UI from fsys, laid out as build.mjs lays out dist/: index.html
// and assets/. It answers /, the review links /review/{id}, the batch links /batch/{key}
// and the player pages /player/{name} with index.html, and
// /assets/... with the content-hashed files, which browsers may cache for good. A nil
// fsys, or one without index.html, serves the page that says how to build the UI.
//
// Every request reads fsys afresh, so NewHandler(os.DirFS("web/dist")) serves each
// rebuild of `node build.mjs --watch` without a restart.
func NewHandler(fsys fs.FS) http.Handler { return &handler{fsys: fsys} }

type handler struct {
	fsys fs.FS
}

// reviewPath is the stable link of a review (the id is the queue's job id) or of a batch
// of reviews uploaded at once (the page keeps the batch under its key).
var reviewPath = regexp.MustCompile(`^/(review|batch)/[A-Za-z0-9_-]{1,64}/?$`)

// playerPath is a player's page; the name is the player's as the records write it, of any
// length (the API bounds none), escaped as one path segment: it is matched against the
// escaped path, where the "/" of a pair's names ("Cho U/Iyama Yuta") is still %2F.
var playerPath = regexp.MustCompile(`^/player/[^/]+/?$`)

// contentSecurityPolicy keeps the page on its own origin: no script, style, image or
// connection to any other host. Shudan and uPlot set element styles from script, and the
// stones are data: images in the stylesheet.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html" || reviewPath.MatchString(p) || playerPath.MatchString(r.URL.EscapedPath()):
		h.serveIndex(w, r)
	case strings.HasPrefix(p, "/assets/") && h.fsys != nil:
		h.serveAsset(w, r, strings.TrimPrefix(p, "/assets/"))
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Type", "text/html; charset=utf-8")
	var index []byte
	if h.fsys != nil {
		var err error
		index, err = fs.ReadFile(h.fsys, "index.html")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	if index == nil {
		hd.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(notBuiltPage))
		}
		return
	}
	// The page names this build's assets, so browsers revalidate it every time.
	hd.Set("Cache-Control", "no-cache")
	sum := sha256.Sum256(index)
	hd.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
}

// serveAsset serves one built file, its gzip copy when the browser takes gzip.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	if name == "" || !fs.ValidPath(name) || strings.HasPrefix(path.Base(name), ".") {
		http.NotFound(w, r)
		return
	}
	data, err := fs.ReadFile(h.fsys, "assets/"+name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isDir(h.fsys, "assets/"+name) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hd.Set("Content-Type", ctype)
	// Every name carries its content's hash; a new build makes new names.
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	if gz, err := fs.ReadFile(h.fsys, "assets/"+name+".gz"); err == nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			hd.Set("Content-Encoding", "gzip")
			data = gz
		}
	}
	// No Last-Modified and no Range on a compressed body: the names make both useless.
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

func isDir(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.IsDir()
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

// notBuiltPage is what a binary built without the UI shows instead of it.
const notBuiltPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tesuji · web UI not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f1eee8;padding:.1rem .3rem;border-radius:4px}</style></head>
<body>
<h1>The web UI is not built into this binary</h1>
<p>This tesuji was built without its browser UI. The API works: see <code>/api/v1/analyses</code>.</p>
<p>To build tesuji with the UI, run <code>make build</code> in the source tree (it needs Node.js and npm),
or build the assets yourself with <code>cd web &amp;&amp; npm ci &amp;&amp; node build.mjs</code> and then
<code>go build -tags webui ./cmd/tesuji</code>.</p>
</body>
</html>
`
