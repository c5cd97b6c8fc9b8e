package api

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// A batch is several games submitted at once: a multipart upload with several files in
// the field sgf, a zip among them, or a zip as the body (Content-Type application/zip).
// Each game becomes its own review; a file that cannot be read is answered with its
// reason while the others are queued.

// batchFile is one game of a batch as uploaded, or why it cannot be one.
type batchFile struct {
	name string
	data []byte
	err  error
}

// batchGame is one game's answer: its review, or its error.
type batchGame struct {
	Name string `json:"name"`
	*analysisCreated
	Error *batchError `json:"error,omitempty"`
}

type batchError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// batchCreated answers a batch: every game in upload order (a zip's in its order).
type batchCreated struct {
	Batch  []batchGame `json:"batch"`
	Queued int         `json:"queued"`
	Failed int         `json:"failed"`
	Error  *batchError `json:"error,omitempty"` // when no game could be queued
}

var zipMagic = []byte("PK\x03\x04")

func isZip(name string, data []byte) bool {
	return bytes.HasPrefix(data, zipMagic) || strings.EqualFold(path.Ext(name), ".zip")
}

// readBatch reads the request's games when it is a batch; nil and no error when it is a
// single upload (the multipart form is then parsed for readAnalysisRequest).
func (a *API) readBatch(c *gin.Context) ([]batchFile, error) {
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch ct {
	case "application/zip", "application/x-zip-compressed":
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxBatchBytes)
		data, err := io.ReadAll(c.Request.Body)
		if err != nil {
			return nil, uploadError(err)
		}
		return a.unzip("upload.zip", data, new(int64))
	case "multipart/form-data":
	default:
		return nil, nil
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxBatchBytes+64<<10)
	if err := c.Request.ParseMultipartForm(a.cfg.MaxUploadBytes + 64<<10); err != nil {
		return nil, uploadError(err)
	}
	fhs := c.Request.MultipartForm.File["sgf"]
	if len(fhs) == 0 || (len(fhs) == 1 && !strings.EqualFold(path.Ext(fhs[0].Filename), ".zip")) {
		return nil, nil
	}
	var files []batchFile
	var total int64 // bytes of every record, unpacked, against MaxBatchBytes
	for _, fh := range fhs {
		if fh.Size > a.cfg.MaxUploadBytes && !strings.EqualFold(path.Ext(fh.Filename), ".zip") {
			files = append(files, batchFile{name: fh.Filename, err: tooLarge(a.cfg.MaxUploadBytes)})
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("api: open upload: %w", err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, uploadError(err)
		}
		if isZip(fh.Filename, data) {
			inner, err := a.unzip(fh.Filename, data, &total)
			if e := classify(err); err != nil && e.Code != "invalid_zip" {
				return nil, err // a limit of the whole batch
			}
			if err != nil {
				files = append(files, batchFile{name: fh.Filename, err: err})
				continue
			}
			files = append(files, inner...)
			continue
		}
		if total += int64(len(data)); total > a.cfg.MaxBatchBytes {
			return nil, a.batchTooLarge(fh.Filename)
		}
		files = append(files, batchFile{name: fh.Filename, data: data})
	}
	if len(files) > a.cfg.MaxBatchGames {
		return nil, badRequest("too_many_games", "a batch holds at most %d games, not %d", a.cfg.MaxBatchGames, len(files))
	}
	return files, nil
}

// unzip returns the records of a zip archive, within the batch's limits: at most
// MaxBatchGames files, each at most MaxUploadBytes, and all the batch's records together
// at most MaxBatchBytes uncompressed (counted as they are read, not as the archive
// claims, into total, which holds the bytes of the batch's records read before). Folders
// and the hidden files archivers add (__MACOSX, .DS_Store) are skipped.
func (a *API) unzip(name string, data []byte, total *int64) ([]batchFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, badRequest("invalid_zip", "%s is not a readable zip archive: %v", name, err)
	}
	var files []batchFile
	for _, f := range zr.File {
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		if len(files) == a.cfg.MaxBatchGames {
			return nil, badRequest("too_many_games", "%s holds more than %d games, the most a batch takes", name, a.cfg.MaxBatchGames)
		}
		entry := name + "/" + f.Name
		if f.UncompressedSize64 > uint64(a.cfg.MaxUploadBytes) {
			files = append(files, batchFile{name: entry, err: tooLarge(a.cfg.MaxUploadBytes)})
			continue
		}
		rc, err := f.Open()
		if err != nil {
			files = append(files, batchFile{name: entry, err: badRequest("invalid_zip", "cannot read it from the archive: %v", err)})
			continue
		}
		body, err := io.ReadAll(io.LimitReader(rc, a.cfg.MaxUploadBytes+1))
		rc.Close()
		switch {
		case err != nil:
			files = append(files, batchFile{name: entry, err: badRequest("invalid_zip", "cannot read it from the archive: %v", err)})
			continue
		case int64(len(body)) > a.cfg.MaxUploadBytes:
			files = append(files, batchFile{name: entry, err: tooLarge(a.cfg.MaxUploadBytes)})
			continue
		}
		if *total += int64(len(body)); *total > a.cfg.MaxBatchBytes {
			return nil, a.batchTooLarge(name)
		}
		files = append(files, batchFile{name: entry, data: body})
	}
	if len(files) == 0 {
		return nil, badRequest("invalid_zip", "%s holds no game records", name)
	}
	return files, nil
}

// batchTooLarge is the answer to a batch whose records, unpacked, pass MaxBatchBytes
// with the file name.
func (a *API) batchTooLarge(name string) error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
		Message: fmt.Sprintf("the batch unpacks to more than its limit of %d bytes with %s", a.cfg.MaxBatchBytes, name)}
}

// batchOptions reads the settings every game of a batch shares: from the form, or from
// the query for a zip body.
func (a *API) batchOptions(c *gin.Context) (*analysisRequest, error) {
	get := c.PostForm
	if c.Request.MultipartForm == nil {
		get = c.Query
	}
	req := &analysisRequest{}
	if err := req.readOptions(get); err != nil {
		return nil, err
	}
	if err := a.checkVisits(req); err != nil {
		return nil, err
	}
	return req, nil
}

// createBatch queues each readable game of a batch. 202 when at least one was queued,
// 400 (with every game's reason) when none was.
func (a *API) createBatch(c *gin.Context, files []batchFile) {
	opts, err := a.batchOptions(c)
	if err != nil {
		a.writeError(c, err)
		return
	}
	res := batchCreated{Batch: make([]batchGame, 0, len(files))}
	for _, f := range files {
		g := batchGame{Name: f.name}
		err := f.err
		if err == nil && strings.TrimSpace(string(f.data)) == "" {
			err = badRequest("invalid_sgf", "the file is empty")
		}
		if err == nil {
			req := *opts
			req.SGF, req.name = string(f.data), path.Base(f.name)
			g.analysisCreated, err = a.submitGame(c, &req)
		}
		if err != nil {
			e := classify(err)
			if e.Status >= 500 {
				a.reqLog(c).Warn("batch game not queued", "name", f.name, "err", err)
			}
			g.Error = &batchError{Code: e.Code, Message: e.Message}
			res.Failed++
		} else {
			res.Queued++
		}
		res.Batch = append(res.Batch, g)
	}
	a.reqLog(c).Info("batch submitted", "queued", res.Queued, "failed", res.Failed)
	if res.Queued == 0 {
		res.Error = &batchError{Code: "invalid_batch", Message: fmt.Sprintf("none of the %d games could be queued", len(files))}
		c.JSON(http.StatusBadRequest, res)
		return
	}
	c.JSON(http.StatusAccepted, res)
}
