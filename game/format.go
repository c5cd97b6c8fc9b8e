package game

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"github.com/saintfish/chardet"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
)

// Formats of game records Parse reads.
const (
	FormatSGF = "sgf" // Smart Game Format, FF[1] to FF[4]
	FormatGIB = "gib" // Tygem's records
	FormatNGF = "ngf" // WBaduk's (Cyberoro's) records
)

// readsWhat ends every message about a file that is no game record tesuji reads.
const readsWhat = "tesuji reads SGF, Tygem (.gib) and WBaduk (.ngf) game records"

// Parse reads an uploaded game record in any format tesuji reads (SGF, Tygem .gib,
// WBaduk .ngf), recognized by its content, into a Record whose Game is valid; it fails at
// once with an *Error as ParseSGF does. A .gib or .ngf record becomes the SGF tree that
// holds the same game (root properties and one node per move), so Annotate writes it as
// SGF. A file of another kind (a PDF, an image, an archive, an HTML page, JSON, a Pandanet
// UGF record, ...) is named in the error: "this looks like a PDF file; ...".
//
// ParseOptions.Name, the file's name, only chooses the reader when the content does not
// show its format; the content always decides, so the same bytes parse the same way with
// or without a name.
func Parse(data []byte, opt ParseOptions) (*Record, error) {
	opt = opt.withDefaults()
	if err := checkSize(data, opt); err != nil {
		return nil, err
	}
	switch Detect(data, opt.Name) {
	case FormatGIB:
		return parseGIB(data, opt)
	case FormatNGF:
		return parseNGF(data, opt)
	case FormatSGF:
		return ParseSGF(data, opt)
	}
	return nil, unknownFormat(data, opt.Name)
}

// Detect returns the format of a game record, FormatSGF, FormatGIB or FormatNGF, or ""
// when data is none of them. The content decides; name (may be empty) is asked only when
// the content shows no format. Data that starts with "(;" is SGF, whatever else its text
// looks like (a problem's comments can make it look like CSV).
func Detect(data []byte, name string) string {
	if startsSGF(data) {
		return FormatSGF
	}
	if foreignKind(data) != "" {
		return ""
	}
	switch {
	case isGIB(data):
		return FormatGIB
	case isNGF(data):
		return FormatNGF
	case bytes.Contains(data, []byte("(;")) || utf16Start(data):
		return FormatSGF
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".gib":
		return FormatGIB
	case ".ngf":
		return FormatNGF
	}
	return ""
}

func checkSize(data []byte, opt ParseOptions) error {
	if len(data) > opt.MaxBytes {
		return errorf(CodeTooLarge, "the file is %s; the limit is %s", byteSize(len(data)), byteSize(opt.MaxBytes))
	}
	return nil
}

// startsSGF reports whether data starts with "(;", after a UTF-8 byte order mark and
// blanks.
func startsSGF(data []byte) bool {
	rest, ok := bytes.CutPrefix(textStart(data), []byte("("))
	return ok && bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(";"))
}

// textStart returns data without the byte order marks and blanks it starts with.
func textStart(data []byte) []byte { return bytes.TrimLeft(data, " \t\r\n\uFEFF") }

// utf16Start reports a UTF-16 byte order mark: ParseSGF reads such a file, and its "(;"
// is not found in the raw bytes.
func utf16Start(data []byte) bool {
	return bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF})
}

// gibMarkers are header lines every Tygem record has.
var gibMarkers = [][]byte{[]byte(`\HS`), []byte(`\GS`), []byte(`\[GAMEBLACKNAME=`), []byte(`\[GAMEINFOMAIN=`)}

func isGIB(data []byte) bool {
	n := 0
	for _, m := range gibMarkers {
		if bytes.Contains(data, m) {
			n++
		}
	}
	return n >= 2 || n == 1 && gibMoveLine.Match(data)
}

var (
	gibMoveLine = regexp.MustCompile(`(?m)^\s*(STO|INI) 0 \d+ `)
	ngfMoveLine = regexp.MustCompile(`(?m)^\s*PM[A-Za-z]{2}[BW][A-Za-z]{4}\s*$`)
	ngfSizeLine = regexp.MustCompile(`\A[^\n]*\n\s*\d+\s*\n`)
)

func isNGF(data []byte) bool {
	return ngfSizeLine.Match(data) && ngfMoveLine.Match(data)
}

// unknownFormat names what data looks like, in an *Error of code invalid_sgf.
func unknownFormat(data []byte, name string) error {
	if strings.TrimSpace(string(data)) == "" {
		return errorf(CodeInvalidSGF, "the file is empty")
	}
	if kind := foreignKind(data); kind != "" {
		return errorf(CodeInvalidSGF, "this looks like %s; %s", kind, readsWhat)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ugf", ".ugi":
		return errorf(CodeInvalidSGF, "this looks like a Pandanet UGF/UGI record; %s", readsWhat)
	}
	return errorf(CodeInvalidSGF, "this is not a game record: it has no \"(;\" to start an SGF game and "+
		"is no Tygem (.gib) or WBaduk (.ngf) record either")
}

// foreignKind names a file that is surely no SGF, GIB or NGF record ("a PDF file", "a zip
// archive", "an HTML page", "KataGo analysis JSON", ...), or returns "".
func foreignKind(data []byte) string {
	head := textStart(data)
	if bytes.HasPrefix(head, []byte("[Header]")) || bytes.Contains(data, []byte("\n[Data]")) &&
		bytes.Contains(data, []byte("[Header]")) {
		return "a Pandanet UGF/UGI record"
	}
	m := mimetype.Detect(data)
	switch {
	case m.Is("text/plain"), m.Is("text/csv"), m.Is("text/tab-separated-values"), m.Is("application/octet-stream"):
		// Unknown bytes may be text in a legacy character set, and the commas or tabs of
		// comments make text look like a table: let the readers judge.
		return ""
	case m.Is("application/json"):
		if bytes.Contains(data, []byte(`"rootInfo"`)) || bytes.Contains(data, []byte(`"moveInfos"`)) {
			return "a KataGo or KaTrain analysis (JSON), not a game record"
		}
		return "a JSON file"
	case m.Is("text/html"):
		return "an HTML page (save the game record itself, not the page that shows it)"
	case m.Is("application/pdf"):
		return "a PDF file"
	case m.Is("application/zip"):
		return "a zip archive (unpack it and upload the records inside)"
	case m.Is("application/gzip"), m.Is("application/x-7z-compressed"), m.Is("application/x-rar-compressed"),
		m.Is("application/x-tar"), m.Is("application/x-bzip2"), m.Is("application/x-xz"):
		return fmt.Sprintf("a compressed archive (%s; unpack it and upload the records inside)", m.Extension())
	case strings.HasPrefix(m.String(), "image/"):
		return fmt.Sprintf("an image (%s), not a game record", strings.TrimPrefix(m.Extension(), "."))
	case strings.HasPrefix(m.String(), "text/"):
		if m.Extension() != "" {
			return fmt.Sprintf("a %s text file", m.Extension())
		}
		return ""
	}
	if ext := m.Extension(); ext != "" {
		return fmt.Sprintf("a %s file", ext)
	}
	return ""
}

// decodeRecordText decodes a .gib or .ngf record: UTF-8 when it is valid (a byte order
// mark is dropped), else the character set the text looks like (Tygem writes EUC-KR in
// Korea and GB2312 in China; WBaduk EUC-KR).
// Line breaks are written "\n", as SGF text is read.
func decodeRecordText(data []byte) (string, []string) {
	lines := strings.NewReplacer("\r\n", "\n", "\r", "\n")
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if utf8.Valid(data) {
		return lines.Replace(string(data)), nil
	}
	if enc, _ := guessCharset(data); enc != nil {
		if out, err := enc.NewDecoder().Bytes(data); err == nil {
			return lines.Replace(string(out)), nil
		}
	}
	return lines.Replace(strings.ToValidUTF8(string(data), "\uFFFD")), []string{
		"the record's character set could not be recognized; names may look wrong"}
}

// guessCharset asks chardet which character set data is in. The few names in a record
// are often too little for it to tell EUC-KR from GB2312, both of two bytes in the same
// ranges; then the EUC-KR reading decides: Korean text reads as Hangul alone, Chinese
// text as Hangul mixed with Hanja, which Korean records do not use.
//
// sure reports a character set chardet was confident of (sureConfidence): with less text
// to go on, a guess is no better than a record's default character set, and a short
// Latin-1 name can pass for Chinese.
func guessCharset(data []byte) (enc encoding.Encoding, sure bool) {
	// The names are in the first lines; the moves after them are ASCII.
	results, err := chardet.NewTextDetector().DetectAll(data[:min(len(data), 16<<10)])
	if err != nil || len(results) == 0 {
		return nil, false
	}
	conf := map[string]int{}
	for _, r := range results {
		conf[r.Charset] = max(conf[r.Charset], r.Confidence)
	}
	best := results[0].Confidence
	sure = best >= sureConfidence
	korean, chinese := lookupCharset("euc-kr"), lookupCharset("gb18030")
	if best-conf["EUC-KR"] > 15 || best-conf["GB-18030"] > 15 {
		enc = lookupCharset(strings.ToLower(results[0].Charset))
		return enc, sure && enc != nil
	}
	text, err := korean.NewDecoder().Bytes(data)
	if err != nil {
		return chinese, sure
	}
	hangul, han := 0, 0
	for _, r := range string(text) {
		switch {
		case unicode.Is(unicode.Hangul, r):
			hangul++
		case unicode.Is(unicode.Han, r), r == utf8.RuneError, unicode.Is(unicode.Co, r):
			han++
		}
	}
	if hangul > 0 && han == 0 {
		return korean, sure
	}
	return chinese, sure
}

// sureConfidence is the least confidence (of 100) of chardet's best answer that
// guessCharset calls sure. chardet answers 10 when it has too little text to tell.
const sureConfidence = 50

// charsetName returns the usual name of a character set, as a CA property would give it.
func charsetName(enc encoding.Encoding) string {
	if name, err := ianaindex.MIME.Name(enc); err == nil && name != "" {
		return name
	}
	return fmt.Sprint(enc)
}

// recordFromNodes finishes a record read from another format than SGF: root holds the
// game's properties as SGF would, moves one node each, in order.
func recordFromNodes(format string, root *Node, moves []*Node, warnings []string, opt ParseOptions) (*Record, error) {
	if len(moves) > opt.MaxMoves {
		// As readGame would say, before a long line of nodes is built.
		return nil, errorf(CodeTooManyMoves, "the game has more than %d moves, the limit", opt.MaxMoves)
	}
	prev := root
	for _, n := range moves {
		prev.Children = []*Node{n}
		prev = n
	}
	rec := &Record{Format: format, Trees: []*Node{root}, Warnings: warnings}
	return rec.finish(opt)
}

// prop is a property with one value, for building a root node.
func prop(id, value string) Property { return Property{ID: id, Values: []string{value}} }

// moveNode is the SGF node of one move; p is ignored for a pass.
func moveNode(c Color, p Point, pass bool) *Node {
	v := ""
	if !pass {
		v = p.SGF()
	}
	return &Node{Props: []Property{prop(c.String(), v)}}
}

// handicapProps returns HA and AB for n handicap stones on a 19x19 board, placed where
// Tygem and WBaduk put them (KaTrain's and Sabaki's "tygem" layout). That is the layout
// of KataGo's fixed handicap too: three stones take the upper left corner, D16.
func handicapProps(n int) []Property {
	stones := FixedHandicap(n, 19, 19)
	if len(stones) == 0 {
		return nil
	}
	ab := Property{ID: "AB"}
	for _, s := range stones {
		ab.Values = append(ab.Values, s.Point.SGF())
	}
	return []Property{prop("HA", fmt.Sprint(n)), ab}
}
