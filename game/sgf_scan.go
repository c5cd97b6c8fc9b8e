package game

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// decodeText returns the upload as UTF-8 text. A BOM decides the encoding; otherwise the
// first CA property found in the raw bytes (CA's value is ASCII in every charset SGF
// writers use, so it can be read before decoding), except that text which is UTF-8 and not
// ASCII alone is read as UTF-8 whatever CA says. Without either, UTF-8 is assumed and,
// when the bytes are not UTF-8, the character set they surely look like (guessCharset),
// else ISO-8859-1 as the SGF specification says.
func decodeText(data []byte) (text string, warnings []string) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return validUTF8(data[3:], "the file starts with a UTF-8 byte order mark", &warnings), warnings
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			warnings = append(warnings, "the file is not valid UTF-16; unreadable characters are shown as \uFFFD")
			return strings.ToValidUTF8(string(data), "\uFFFD"), warnings
		}
		return string(out), nil
	}

	label, found := findCharset(data)
	norm := strings.ToLower(strings.TrimSpace(label))
	if !found || norm == "" || strings.NewReplacer("-", "", "_", "", " ", "").Replace(norm) == "utf8" {
		if utf8.Valid(data) {
			return string(data), nil
		}
		if found {
			return validUTF8(data, fmt.Sprintf("the record says CA[%s]", label), &warnings), warnings
		}
		if enc, sure := guessCharset(data); sure {
			if out, err := enc.NewDecoder().Bytes(data); err == nil && !bytes.ContainsRune(out, utf8.RuneError) {
				warnings = append(warnings, fmt.Sprintf("the record does not name its character set (CA) and is not UTF-8; "+
					"its text was read as %s, the character set it looks like; names and comments may look wrong if it is another",
					charsetName(enc)))
				return string(out), warnings
			}
		}
		out, _ := charmap.ISO8859_1.NewDecoder().Bytes(data) // ISO-8859-1 maps every byte
		warnings = append(warnings, "the record does not name its character set (CA) and is not UTF-8; "+
			"its text was read as ISO-8859-1, so names and comments may look wrong")
		return string(out), warnings
	}

	enc := lookupCharset(norm)
	if enc == nil {
		if utf8.Valid(data) {
			warnings = append(warnings, fmt.Sprintf("unknown character set CA[%s]; the text was read as UTF-8", label))
			return string(data), warnings
		}
		out, _ := charmap.ISO8859_1.NewDecoder().Bytes(data)
		warnings = append(warnings, fmt.Sprintf("unknown character set CA[%s]; the text was read as ISO-8859-1, "+
			"so names and comments may look wrong", label))
		return string(out), warnings
	}
	// Editors often convert a record to UTF-8 and keep its old CA: trust the bytes then.
	// Legacy text is seldom valid UTF-8, and read in a double-byte charset UTF-8 can
	// swallow the ']' that ends a value. Text of ASCII bytes alone (ISO-2022-JP is) is
	// decoded as CA says.
	isUTF8 := utf8.Valid(data)
	out, err := enc.NewDecoder().Bytes(data)
	if isUTF8 && !isASCII(data) || err != nil || bytes.ContainsRune(out, utf8.RuneError) && !bytes.ContainsRune(data, utf8.RuneError) {
		if isUTF8 {
			warnings = append(warnings, fmt.Sprintf("the record says CA[%s] but its text is UTF-8; it was read as UTF-8", label))
			return string(data), warnings
		}
		if err != nil {
			return validUTF8(data, fmt.Sprintf("the record says CA[%s] but its text cannot be read that way", label), &warnings), warnings
		}
		warnings = append(warnings, fmt.Sprintf("some characters are not valid %s; they are shown as \uFFFD", label))
	}
	return string(out), warnings
}

// isASCII reports whether data holds ASCII bytes alone.
func isASCII(data []byte) bool {
	for _, c := range data {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func validUTF8(data []byte, why string, warnings *[]string) string {
	if utf8.Valid(data) {
		return string(data)
	}
	*warnings = append(*warnings, why+" but some bytes are not UTF-8; they are shown as \uFFFD")
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

// lookupCharset maps a CA label to a decoder. GB2312 and GBK records are decoded as
// GB18030, their superset, as writers label GBK text GB2312.
func lookupCharset(label string) encoding.Encoding {
	switch strings.NewReplacer("_", "", "-", "", " ", "").Replace(label) {
	case "gb2312", "gbk", "cp936", "gb18030", "euccn", "xgbk", "gb231280", "chinese", "936":
		return simplifiedchinese.GB18030
	case "sjis", "shiftjis", "mskanji", "cp932", "windows31j", "xsjis":
		label = "shift_jis"
	case "latin1", "iso88591", "l1":
		return charmap.ISO8859_1
	case "cp949", "uhc", "ksc56011987", "ksc5601", "euckr":
		label = "euc-kr"
	case "big5", "big5hkscs", "cp950":
		label = "big5"
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil
	}
	return enc
}

// findCharset returns the value of the first CA property in the raw bytes. It reads
// property names and skips their values, so a "CA[" inside another property's value (a
// comment that tells how to set CA) is not taken.
func findCharset(data []byte) (string, bool) {
	for i := 0; i < len(data); {
		if data[i] == '[' {
			if i = valueEnd(data, i+1); i < 0 {
				return "", false
			}
			continue
		}
		if !isLetter(data[i]) {
			i++
			continue
		}
		start := i
		for i < len(data) && isLetter(data[i]) {
			i++
		}
		id := data[start:i]
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if string(id) == "CA" && i < len(data) && data[i] == '[' {
			end := valueEnd(data, i+1)
			if end < 0 {
				return "", false
			}
			if end-i-2 <= 64 { // a charset's name is short
				return string(data[i+1 : end-1]), true
			}
			i = end
		}
	}
	return "", false
}

// valueEnd returns the offset after the ']' that ends the value from start on (a '\'
// escapes the byte after it), or -1 when none does.
func valueEnd(data []byte, start int) int {
	for i := start; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case ']':
			return i + 1
		}
	}
	return -1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// span locates a string the scanner produced without allocating it: off >= 0 is an
// offset in the text, off < 0 is -off-1 in the side buffer (unescaped values and
// normalized FF[3] names). The scanner's tables hold no pointers, so they grow and are
// collected cheaply whatever the input.
type span struct{ off, n int32 }

// propSpan is one property while scanning: its name and its values vals[start:end].
type propSpan struct {
	id         span
	start, end int32
}

// scanner reads the SGF text in one linear pass: it checks the grammar, counts nodes,
// unescapes property values and writes the skeleton the sgf library parses.
type scanner struct {
	s         string
	pos       int
	line      int // 1-based line of pos
	lineStart int // offset where that line starts

	maxNodes  int
	nodes     int
	trees     int
	skel      []byte
	props     []propSpan
	vals      []span
	side      []byte  // text of the spans with off < 0
	nodeProps []int32 // props of node i are props[nodeProps[i]:nodeProps[i+1]]
	trailing  bool    // non-blank text after the last game tree
}

// str returns the text of a span, side being the side buffer as one string.
func (sc *scanner) str(sp span, side string) string {
	if sp.off >= 0 {
		return sc.s[sp.off : sp.off+sp.n]
	}
	o := -sp.off - 1
	return side[o : o+sp.n]
}

// frame is an open game tree while scanning.
type frame struct {
	open       int // offset of its '(' in the skeleton
	children   int
	childOpen  int // skeleton offsets of its first child's parentheses
	childClose int
}

// scan reads every game tree from the first "(;" on.
func (sc *scanner) scan() error {
	// Size the tables once: every value (so every property) needs its own '[' and every
	// node its own ';', so they never grow.
	rest := sc.s[sc.pos:]
	values := strings.Count(rest, "[")
	nodes := min(strings.Count(rest, ";"), sc.maxNodes) + 1
	sc.vals = make([]span, 0, values)
	sc.props = make([]propSpan, 0, values)
	sc.nodeProps = make([]int32, 0, nodes)
	sc.skel = make([]byte, 0, nodes+2*min(strings.Count(rest, "("), nodes)+8)
	var stack []frame
	for {
		sc.skipSpace()
		if sc.pos >= len(sc.s) {
			if len(stack) > 0 {
				return sc.errAt(sc.pos, "the file ends before the game record is closed (is it cut off?)")
			}
			return nil
		}
		c := sc.s[sc.pos]
		if len(stack) == 0 {
			if c != '(' {
				sc.trailing = true // text after the last game tree, such as a signature
				return nil
			}
			stack = append(stack, frame{open: len(sc.skel)})
			sc.skel = append(sc.skel, '(')
			sc.pos++
			if err := sc.expectNode(); err != nil {
				return err
			}
			continue
		}
		top := &stack[len(stack)-1]
		switch {
		case c == '(':
			top.children++
			stack = append(stack, frame{open: len(sc.skel)})
			sc.skel = append(sc.skel, '(')
			sc.pos++
			if err := sc.expectNode(); err != nil {
				return err
			}
		case c == ';':
			if top.children > 0 {
				return sc.errAt(sc.pos, "unexpected ';' after a variation: a node must come before the variations that follow it")
			}
			if err := sc.node(); err != nil {
				return err
			}
		case c == ')':
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.children == 1 {
				// A single child tree continues its parent's sequence: flatten it so the
				// library sees a sequence instead of deep nesting.
				sc.skel[f.childOpen] = ' '
				sc.skel[f.childClose] = ' '
			}
			closeAt := len(sc.skel)
			sc.skel = append(sc.skel, ')')
			sc.pos++
			if len(stack) == 0 {
				sc.trees++
			} else if p := &stack[len(stack)-1]; p.children == 1 {
				p.childOpen, p.childClose = f.open, closeAt
			}
		case isLetter(c):
			if top.children > 0 {
				return sc.errAt(sc.pos, "a property after a variation: properties must come before the variations of their node")
			}
			if err := sc.property(); err != nil {
				return err
			}
		default:
			return sc.errAt(sc.pos, "unexpected %s", describeChar(sc.s[sc.pos:]))
		}
	}
}

// expectNode requires the ';' that starts every game tree.
func (sc *scanner) expectNode() error {
	sc.skipSpace()
	if sc.pos >= len(sc.s) {
		return sc.errAt(sc.pos, "the file ends before the game record is closed (is it cut off?)")
	}
	if sc.s[sc.pos] != ';' {
		return sc.errAt(sc.pos, "unexpected %s: a game tree must start with ';'", describeChar(sc.s[sc.pos:]))
	}
	return sc.node()
}

func (sc *scanner) node() error {
	sc.nodes++
	if sc.nodes > sc.maxNodes {
		return &Error{Code: CodeTooLarge, Msg: fmt.Sprintf("the record has more than %d nodes, the limit", sc.maxNodes)}
	}
	sc.skel = append(sc.skel, ';')
	sc.nodeProps = append(sc.nodeProps, int32(len(sc.props)))
	sc.pos++
	return nil
}

// maxIdentLen bounds a property name before normalization (FF[3] allowed long names such
// as "AddBlack"); real ones are far shorter.
const maxIdentLen = 32

func (sc *scanner) property() error {
	start := sc.pos
	for sc.pos < len(sc.s) && isLetter(sc.s[sc.pos]) {
		sc.pos++
	}
	raw := sc.s[start:sc.pos]
	if len(raw) > maxIdentLen {
		return sc.errAt(start, "the property name %.20q... is too long", raw)
	}
	id := sc.ident(start, raw)
	sc.skipSpace()
	if sc.pos >= len(sc.s) {
		return sc.errAt(sc.pos, "the file ends before the game record is closed (is it cut off?)")
	}
	if sc.s[sc.pos] != '[' {
		return sc.errAt(start, "the property %s has no value", normalizeIdent(raw))
	}
	p := propSpan{id: id, start: int32(len(sc.vals))}
	for sc.pos < len(sc.s) && sc.s[sc.pos] == '[' {
		v, err := sc.value(raw)
		if err != nil {
			return err
		}
		sc.vals = append(sc.vals, v)
		sc.skipSpace()
	}
	p.end = int32(len(sc.vals))
	sc.props = append(sc.props, p)
	return nil
}

// ident returns the span of the normalized property name: the name itself when it is
// all upper case, as FF[4] writes it.
func (sc *scanner) ident(start int, raw string) span {
	upper := 0
	for i := 0; i < len(raw); i++ {
		if isUpper(raw[i]) {
			upper++
		}
	}
	if upper == len(raw) {
		return span{off: int32(start), n: int32(len(raw))}
	}
	off := len(sc.side)
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case upper == 0:
			sc.side = append(sc.side, c-'a'+'A')
		case isUpper(c):
			sc.side = append(sc.side, c)
		}
	}
	return span{off: int32(-off - 1), n: int32(len(sc.side) - off)}
}

// normalizeIdent drops the lower-case letters FF[3] allowed in property names ("KoMi" is
// KM); a name written all in lower case is upper-cased instead.
func normalizeIdent(raw string) string {
	upper := 0
	for i := 0; i < len(raw); i++ {
		if isUpper(raw[i]) {
			upper++
		}
	}
	switch upper {
	case len(raw):
		return raw
	case 0:
		return strings.ToUpper(raw)
	}
	b := make([]byte, 0, upper)
	for i := 0; i < len(raw); i++ {
		if isUpper(raw[i]) {
			b = append(b, raw[i])
		}
	}
	return string(b)
}

// value reads one "[...]" value: "\x" is x, a backslash before a line break removes it
// (a soft line break), and every line break becomes "\n". A value without escapes or
// carriage returns is a span of the text; any other is written to the side buffer.
func (sc *scanner) value(id string) (span, error) {
	open := sc.pos
	openLine, openLineStart := sc.line, sc.lineStart
	start := sc.pos + 1
	s := sc.s
	for i := start; i < len(s); i++ {
		switch s[i] {
		case ']':
			sc.pos = i + 1
			return span{off: int32(start), n: int32(i - start)}, nil
		case '\\', '\r':
			sc.line, sc.lineStart = openLine, openLineStart
			return sc.sideValue(start, open, id)
		case '\n':
			sc.newline(i + 1)
		}
	}
	sc.line, sc.lineStart = openLine, openLineStart
	return span{}, sc.errAt(open, "the file ends inside the value of %s that starts here (is it cut off?)", normalizeIdent(id))
}

// sideValue reads a value with escapes or carriage returns from start into the side buffer.
func (sc *scanner) sideValue(start, open int, id string) (span, error) {
	openLine, openLineStart := sc.line, sc.lineStart
	off := len(sc.side)
	b := sc.side
	s := sc.s
	for i := start; i < len(s); i++ {
		c := s[i]
		switch c {
		case ']':
			sc.pos = i + 1
			sc.side = b
			return span{off: int32(-off - 1), n: int32(len(b) - off)}, nil
		case '\\':
			i++
			if i >= len(s) {
				break
			}
			switch s[i] {
			case '\r':
				if i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
				sc.newline(i + 1)
			case '\n':
				sc.newline(i + 1)
			default:
				b = append(b, s[i])
			}
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			sc.newline(i + 1)
			b = append(b, '\n')
		case '\n':
			sc.newline(i + 1)
			b = append(b, '\n')
		default:
			b = append(b, c)
		}
	}
	sc.side = b[:off]
	sc.line, sc.lineStart = openLine, openLineStart
	return span{}, sc.errAt(open, "the file ends inside the value of %s that starts here (is it cut off?)", normalizeIdent(id))
}

func (sc *scanner) newline(next int) {
	sc.line++
	sc.lineStart = next
}

func (sc *scanner) skipSpace() {
	s := sc.s
	for sc.pos < len(s) {
		switch s[sc.pos] {
		case '\n':
			sc.newline(sc.pos + 1)
		case '\r':
			if sc.pos+1 >= len(s) || s[sc.pos+1] != '\n' {
				sc.newline(sc.pos + 1)
			}
		case ' ', '\t', '\v', '\f':
		default:
			return
		}
		sc.pos++
	}
}

// errAt returns a syntax error at offset pos, which must be on the current line.
func (sc *scanner) errAt(pos int, format string, args ...any) *Error {
	col := 1
	if pos >= sc.lineStart && pos <= len(sc.s) {
		col = utf8.RuneCountInString(sc.s[sc.lineStart:pos]) + 1
	}
	return syntaxErrorf(sc.line, col, format, args...)
}

// describeChar names the character at the start of s for an error message.
func describeChar(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || r < ' ' || r == 0x7f {
		return fmt.Sprintf("character U+%04X", r)
	}
	return fmt.Sprintf("'%c'", r)
}

// findStart returns the offset of the first "(" that is followed by ";" (blanks allowed
// between), or -1.
func findStart(s string) int {
	for off := 0; off < len(s); {
		k := strings.IndexByte(s[off:], '(')
		if k < 0 {
			return -1
		}
		i := off + k + 1
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i < len(s) && s[i] == ';' {
			return off + k
		}
		off += k + 1
	}
	return -1
}
