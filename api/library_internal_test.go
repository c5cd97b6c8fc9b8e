package api

import (
	"testing"

	"github.com/tesuji/tesuji/game"
)

// TestDownloadName: the download's name and header, whatever a record puts in its names.
func TestDownloadName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		black, white, date string
		name, header       string
	}{
		{"Lee Sedol", "Gu Li", "2026-11-21", "Lee_Sedol-vs-Gu_Li-2026-11-21.sgf",
			`attachment; filename=Lee_Sedol-vs-Gu_Li-2026-11-21.sgf`},
		{"李世乭", "Gu Li", "2026-11-21,22", "李世乭-vs-Gu_Li-2026-11-21.sgf",
			`attachment; filename=___-vs-Gu_Li-2026-11-21.sgf; filename*=utf-8''%E6%9D%8E%E4%B8%96%E4%B9%AD-vs-Gu_Li-2026-11-21.sgf`},
		{"a\x00b\nc\u202ed", "\"x\";y", "", "ab_cd-vs-x;y.sgf", `attachment; filename="ab_cd-vs-x;y.sgf"`},
		{"..\\..\\boot.ini", "<>:|?*", "2026-13-40", "boot.ini-vs-White.sgf", `attachment; filename=boot.ini-vs-White.sgf`},
		{"", "", "played in 2026", "Black-vs-White.sgf", `attachment; filename=Black-vs-White.sgf`},
	} {
		g := &game.Game{BlackName: c.black, WhiteName: c.white, Date: c.date}
		name := downloadName(g)
		if name != c.name {
			t.Errorf("downloadName(%q, %q, %q) = %q, want %q", c.black, c.white, c.date, name, c.name)
		}
		if h := contentDisposition(name); h != c.header {
			t.Errorf("contentDisposition(%q) = %q, want %q", name, h, c.header)
		}
	}
}
