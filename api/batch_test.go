package api_test

import (
	"archive/zip"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/api"
)

// uploadFiles posts files (name and content, in order) in the multipart field sgf.
func (e *env) uploadFiles(t testing.TB, token string, files [][2]string, fields map[string]string) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		fw, err := mw.CreateFormFile("sgf", f[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(fw, f[1])
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, e.url+"/api/v1/analyses", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(t, req)
}

func zipOf(t testing.TB, files [][2]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// batchAnswer is what the tests compare of a batch answer: per game its name, and whether
// it was queued (an id) or the code of its error.
type batchAnswer struct {
	Batch []struct {
		Name  string
		ID    string
		Turns int
		Error *struct{ Code, Message string }
	}
	Queued, Failed int
	Error          *struct{ Code, Message string }
}

func (b batchAnswer) outcomes() []string {
	var out []string
	for _, g := range b.Batch {
		switch {
		case g.Error != nil:
			out = append(out, g.Name+": "+g.Error.Code)
		case g.ID != "":
			out = append(out, g.Name+": queued")
		default:
			out = append(out, g.Name+": nothing")
		}
	}
	return out
}

func TestBatchUpload(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{api: apiBatchLimits()})
	tok := e.token(t, "alice")
	other := strings.Replace(game3, "B[gg]", "B[gc]", 1)
	tests := []struct {
		name   string
		files  [][2]string
		zip    bool // send the files as one zip body
		status int
		want   []string
	}{
		{name: "several files, one broken", status: http.StatusAccepted, files: [][2]string{
			{"a.sgf", game3}, {"broken.sgf", "(;GM[1]SZ[9];B[ee];W[ee])"}, {"b.sgf", other}, {"empty.sgf", " "}},
			want: []string{"a.sgf: queued", "broken.sgf: illegal_move", "b.sgf: queued", "empty.sgf: invalid_sgf"}},
		{name: "a zip among files", status: http.StatusAccepted, files: [][2]string{
			{"games.zip", zipOf(t, [][2]string{{"x/1.sgf", game3}, {"__MACOSX/._1.sgf", "junk"}, {"x/2.pdf", "%PDF-1.7\n"}})},
			{"c.sgf", other}},
			want: []string{"games.zip/x/1.sgf: queued", "games.zip/x/2.pdf: invalid_sgf", "c.sgf: queued"}},
		{name: "a zip body", zip: true, status: http.StatusAccepted, files: [][2]string{{"1.sgf", game3}, {"2.sgf", other}},
			want: []string{"upload.zip/1.sgf: queued", "upload.zip/2.sgf: queued"}},
		{name: "nothing readable", status: http.StatusBadRequest, files: [][2]string{{"a.txt", "hello"}, {"b.sgf", "(;"}},
			want: []string{"a.txt: invalid_sgf", "b.sgf: invalid_sgf"}},
		{name: "a file over the limit", status: http.StatusAccepted, files: [][2]string{
			{"big.sgf", "(;GM[1]C[" + strings.Repeat("x", 5000) + "])"}, {"a.sgf", game3}},
			want: []string{"big.sgf: too_large", "a.sgf: queued"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r reply
			if tt.zip {
				req, err := http.NewRequest(http.MethodPost, e.url+"/api/v1/analyses?maxVisits=5", strings.NewReader(zipOf(t, tt.files)))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/zip")
				req.Header.Set("Authorization", "Bearer "+tok)
				r = e.send(t, req)
			} else {
				r = e.uploadFiles(t, tok, tt.files, map[string]string{"maxVisits": "5"})
			}
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			var got batchAnswer
			r.decode(t, &got)
			if diff := cmp.Diff(tt.want, got.outcomes()); diff != "" {
				t.Errorf("games (-want +got):\n%s", diff)
			}
			queued := 0
			for _, g := range got.Batch {
				if g.ID == "" {
					continue
				}
				queued++
				if g.Turns != 4 {
					t.Errorf("%s: %d turns, want 4", g.Name, g.Turns)
				}
				if events := e.follow(t, tok, g.ID); events[len(events)-1].typ != "done" {
					t.Errorf("%s ended with %q", g.Name, events[len(events)-1].typ)
				}
			}
			if got.Queued != queued || got.Failed != len(got.Batch)-queued {
				t.Errorf("queued %d failed %d, want %d and %d", got.Queued, got.Failed, queued, len(got.Batch)-queued)
			}
			if (got.Error != nil) != (tt.status == http.StatusBadRequest) {
				t.Errorf("batch error %+v with status %d", got.Error, r.status)
			}
		})
	}
}

func TestBatchLimits(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{api: apiBatchLimits()})
	tok := e.token(t, "alice")
	many := make([][2]string, 5)
	for i := range many {
		many[i] = [2]string{string(rune('a'+i)) + ".sgf", game3}
	}
	// Entries that claim to be small but unpack to more than the batch may hold.
	var bomb [][2]string
	for i := range 3 {
		bomb = append(bomb, [2]string{string(rune('a'+i)) + ".sgf", "(;GM[1]C[" + strings.Repeat("z", 3000) + "])"})
	}
	tests := []struct {
		name  string
		files [][2]string
		code  string
	}{
		{name: "too many files", files: many, code: "too_many_games"},
		{name: "too many in a zip", files: [][2]string{{"g.zip", zipOf(t, many)}}, code: "too_many_games"},
		{name: "a zip past the total", files: [][2]string{{"g.zip", zipOf(t, bomb)}}, code: "too_large"},
		// Each zip within the total, together past it.
		{name: "zips past the total", files: [][2]string{{"a.zip", zipOf(t, bomb[:2])}, {"b.zip", zipOf(t, bomb[2:])}}, code: "too_large"},
		{name: "not a zip", files: [][2]string{{"g.zip", "PK\x03\x04 broken"}}, code: "invalid_batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.uploadFiles(t, tok, tt.files, nil)
			if r.status < 400 || r.errCode() != tt.code {
				t.Errorf("answer %d %s, want the error %s", r.status, r.body, tt.code)
			}
		})
	}
}

// apiBatchLimits are small limits, so the tests can cross them with small files.
func apiBatchLimits() api.Config {
	return api.Config{MaxUploadBytes: 4096, MaxBatchBytes: 8000, MaxBatchGames: 4}
}
