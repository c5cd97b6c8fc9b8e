package enginetest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tesuji/tesuji/engine/internal/jsonfmt"
)

// This file parses and prints JSON the way nlohmann::json (the library KataGo uses) does,
// because KataGo passes that library's messages through: a line that is not JSON is
// answered with nlohmann's own parse error text, and action answers echo the parsed query.

type jkind int

const (
	jNull jkind = iota
	jBool
	jInt   // a number literal without fraction or exponent that fits 64 bits
	jFloat // any other number
	jString
	jArray
	jObject
)

// jv is a parsed JSON value.
type jv struct {
	kind     jkind
	b        bool
	i        int64
	unsigned bool // an integer too large for int64, held in u
	u        uint64
	f        float64
	s        string
	a        []*jv
	o        map[string]*jv
}

func (v *jv) isString() bool  { return v != nil && v.kind == jString }
func (v *jv) isObject() bool  { return v != nil && v.kind == jObject }
func (v *jv) isArray() bool   { return v != nil && v.kind == jArray }
func (v *jv) isBool() bool    { return v != nil && v.kind == jBool }
func (v *jv) isInteger() bool { return v != nil && v.kind == jInt }
func (v *jv) isNumber() bool  { return v != nil && (v.kind == jInt || v.kind == jFloat) }

// get returns the member key of an object, or nil.
func (v *jv) get(key string) *jv {
	if v == nil || v.kind != jObject {
		return nil
	}
	return v.o[key]
}

func (v *jv) has(key string) bool { return v.get(key) != nil }

// float converts a number the way nlohmann's get<double> does.
func (v *jv) float() float64 {
	switch {
	case v.kind == jInt && v.unsigned:
		return float64(v.u)
	case v.kind == jInt:
		return float64(v.i)
	}
	return v.f
}

// int64 converts a number the way nlohmann's get<int64_t> does (truncating floats).
func (v *jv) int64() int64 {
	switch {
	case v.kind == jInt && v.unsigned:
		return int64(v.u)
	case v.kind == jInt:
		return v.i
	case v.kind == jBool:
		if v.b {
			return 1
		}
		return 0
	}
	if math.IsNaN(v.f) || math.Abs(v.f) > 9.2e18 {
		return math.MinInt64
	}
	return int64(v.f)
}

// ints converts an array the way nlohmann's get<vector<int>> does; ok is false where
// nlohmann would throw.
func (v *jv) ints() ([]int64, bool) {
	if !v.isArray() {
		return nil, false
	}
	out := make([]int64, 0, len(v.a))
	for _, e := range v.a {
		if !e.isNumber() && !e.isBool() {
			return nil, false
		}
		out = append(out, e.int64())
	}
	return out, true
}

// str returns a string value; ok is false where nlohmann's get<string> would throw.
func (v *jv) str() (string, bool) {
	if !v.isString() {
		return "", false
	}
	return v.s, true
}

func (v *jv) typeName() string {
	switch v.kind {
	case jNull:
		return "null"
	case jBool:
		return "boolean"
	case jString:
		return "string"
	case jArray:
		return "array"
	case jObject:
		return "object"
	}
	return "number"
}

// dump prints v compactly as nlohmann does: object keys in byte order.
func (v *jv) dump() string { return string(v.appendTo(nil)) }

func (v *jv) appendTo(b []byte) []byte {
	switch v.kind {
	case jNull:
		return append(b, "null"...)
	case jBool:
		return strconv.AppendBool(b, v.b)
	case jInt:
		if v.unsigned {
			return strconv.AppendUint(b, v.u, 10)
		}
		return strconv.AppendInt(b, v.i, 10)
	case jFloat:
		b, _ = jsonfmt.AppendFloat(b, v.f)
		return b
	case jString:
		return jsonfmt.AppendString(b, v.s)
	case jArray:
		b = append(b, '[')
		for i, e := range v.a {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendTo(b)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(mapKeys(v.o)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonfmt.AppendString(b, k)
		b = append(b, ':')
		b = v.o[k].appendTo(b)
	}
	return append(b, '}')
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func jstr(s string) *jv { return &jv{kind: jString, s: s} }
func jint(i int64) *jv  { return &jv{kind: jInt, i: i} }
func jbool(b bool) *jv  { return &jv{kind: jBool, b: b} }

// Tokens, named as nlohmann names them in its messages.
type token int

const (
	tUninitialized token = iota
	tTrue
	tFalse
	tNull
	tString
	tNumber
	tBeginArray
	tBeginObject
	tEndArray
	tEndObject
	tNameSeparator
	tValueSeparator
	tParseError
	tEndOfInput
	tLiteralOrValue
)

func (t token) String() string {
	return [...]string{
		"<uninitialized>", "true literal", "false literal", "null literal", "string literal",
		"number literal", "'['", "'{'", "']'", "'}'", "':'", "','", "<parse error>",
		"end of input", "'[', '{', or a literal",
	}[t]
}

// nlError is one of nlohmann's exceptions; its text is what KataGo quotes.
type nlError struct{ what string }

func (e *nlError) Error() string { return e.what }

// lexer follows nlohmann's lexer closely enough to report the same positions and
// "last read" text.
type lexer struct {
	in        string
	pos       int  // next byte to read
	cur       int  // current character, -1 at end of input
	unget     bool // the next get returns cur again
	line      int
	col       int
	read      int
	tokenStr  []byte
	errMsg    string
	strVal    string
	numText   string
	numIsInt  bool
	numNegInt bool
}

const eof = -1

func (l *lexer) get() int {
	l.read++
	l.col++
	if l.unget {
		l.unget = false
	} else if l.pos < len(l.in) {
		l.cur = int(l.in[l.pos])
		l.pos++
	} else {
		l.cur = eof
	}
	if l.cur != eof {
		l.tokenStr = append(l.tokenStr, byte(l.cur))
	}
	if l.cur == '\n' {
		l.line++
		l.col = 0
	}
	return l.cur
}

func (l *lexer) ungetc() {
	l.unget = true
	l.read--
	if l.col == 0 {
		if l.line > 0 {
			l.line--
		}
	} else {
		l.col--
	}
	if l.cur != eof && len(l.tokenStr) > 0 {
		l.tokenStr = l.tokenStr[:len(l.tokenStr)-1]
	}
}

func (l *lexer) reset() {
	l.tokenStr = l.tokenStr[:0]
	if l.cur != eof {
		l.tokenStr = append(l.tokenStr, byte(l.cur))
	}
}

// tokenString is the characters read for the current token, control characters escaped.
func (l *lexer) tokenString() string {
	var b strings.Builder
	for _, c := range l.tokenStr {
		if c <= 0x1f {
			fmt.Fprintf(&b, "<U+%04X>", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (l *lexer) position() string {
	return fmt.Sprintf(" at line %d, column %d", l.line+1, l.col)
}

func (l *lexer) scan() token {
	for {
		l.get()
		if l.cur != ' ' && l.cur != '\t' && l.cur != '\n' && l.cur != '\r' {
			break
		}
	}
	switch l.cur {
	case '[':
		return tBeginArray
	case ']':
		return tEndArray
	case '{':
		return tBeginObject
	case '}':
		return tEndObject
	case ':':
		return tNameSeparator
	case ',':
		return tValueSeparator
	case 't':
		return l.literal("true", tTrue)
	case 'f':
		return l.literal("false", tFalse)
	case 'n':
		return l.literal("null", tNull)
	case '"':
		return l.scanString()
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return l.scanNumber()
	case 0, eof:
		return tEndOfInput
	}
	l.errMsg = "invalid literal"
	return tParseError
}

func (l *lexer) literal(text string, t token) token {
	for i := 1; i < len(text); i++ {
		if l.get() != int(text[i]) {
			l.errMsg = "invalid literal"
			return tParseError
		}
	}
	return t
}

var controlNames = [32]string{
	"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
}

var shortEscapes = map[int]string{8: `\b`, 9: `\t`, 10: `\n`, 12: `\f`, 13: `\r`}

func (l *lexer) scanString() token {
	l.reset()
	var buf []byte
	for {
		c := l.get()
		switch {
		case c == eof:
			l.errMsg = "invalid string: missing closing quote"
			return tParseError
		case c == '"':
			l.strVal = string(buf)
			return tString
		case c == '\\':
			switch e := l.get(); e {
			case '"', '\\', '/':
				buf = append(buf, byte(e))
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r1, ok := l.hex4()
				if !ok {
					l.errMsg = "invalid string: '\\u' must be followed by 4 hex digits"
					return tParseError
				}
				r := rune(r1)
				switch {
				case 0xD800 <= r1 && r1 <= 0xDBFF:
					if l.get() != '\\' || l.get() != 'u' {
						l.errMsg = "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"
						return tParseError
					}
					r2, ok := l.hex4()
					if !ok {
						l.errMsg = "invalid string: '\\u' must be followed by 4 hex digits"
						return tParseError
					}
					if r2 < 0xDC00 || r2 > 0xDFFF {
						l.errMsg = "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"
						return tParseError
					}
					r = rune((r1-0xD800)<<10 + (r2 - 0xDC00) + 0x10000)
				case 0xDC00 <= r1 && r1 <= 0xDFFF:
					l.errMsg = "invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF"
					return tParseError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				l.errMsg = "invalid string: forbidden character after backslash"
				return tParseError
			}
		case c <= 0x1f:
			name := controlNames[c]
			if short, ok := shortEscapes[c]; ok {
				l.errMsg = fmt.Sprintf("invalid string: control character U+%04X (%s) must be escaped to \\u%04X or %s", c, name, c, short)
			} else {
				l.errMsg = fmt.Sprintf("invalid string: control character U+%04X (%s) must be escaped to \\u%04X", c, name, c)
			}
			return tParseError
		case c < 0x80:
			buf = append(buf, byte(c))
		default:
			// Multi-byte UTF-8: check the sequence as nlohmann does.
			n := 0
			switch {
			case c >= 0xC2 && c <= 0xDF:
				n = 1
			case c >= 0xE0 && c <= 0xEF:
				n = 2
			case c >= 0xF0 && c <= 0xF4:
				n = 3
			default:
				l.errMsg = "invalid string: ill-formed UTF-8 byte"
				return tParseError
			}
			seq := []byte{byte(c)}
			for i := 0; i < n; i++ {
				seq = append(seq, byte(l.get()))
			}
			if !utf8.Valid(seq) {
				l.errMsg = "invalid string: ill-formed UTF-8 byte"
				return tParseError
			}
			buf = append(buf, seq...)
		}
	}
}

func (l *lexer) hex4() (int, bool) {
	v := 0
	for i := 0; i < 4; i++ {
		c := l.get()
		switch {
		case '0' <= c && c <= '9':
			v = v*16 + c - '0'
		case 'a' <= c && c <= 'f':
			v = v*16 + c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = v*16 + c - 'A' + 10
		default:
			return 0, false
		}
	}
	return v, true
}

func isDigitC(c int) bool { return '0' <= c && c <= '9' }

func (l *lexer) scanNumber() token {
	l.reset()
	isInt := true
	neg := l.cur == '-'
	if neg {
		c := l.get()
		if c == '0' {
			goto zero
		}
		if !isDigitC(c) {
			l.errMsg = "invalid number; expected digit after '-'"
			return tParseError
		}
		goto any1
	}
	if l.cur == '0' {
		goto zero
	}
any1:
	for {
		c := l.get()
		if isDigitC(c) {
			continue
		}
		if c == '.' {
			goto frac
		}
		if c == 'e' || c == 'E' {
			goto exp
		}
		goto done
	}
zero:
	switch c := l.get(); {
	case c == '.':
		goto frac
	case c == 'e' || c == 'E':
		goto exp
	}
	goto done
frac:
	isInt = false
	if !isDigitC(l.get()) {
		l.errMsg = "invalid number; expected digit after '.'"
		return tParseError
	}
	for {
		c := l.get()
		if isDigitC(c) {
			continue
		}
		if c == 'e' || c == 'E' {
			goto exp
		}
		goto done
	}
exp:
	isInt = false
	switch c := l.get(); {
	case c == '+' || c == '-':
		if !isDigitC(l.get()) {
			l.errMsg = "invalid number; expected digit after exponent sign"
			return tParseError
		}
	case isDigitC(c):
	default:
		l.errMsg = "invalid number; expected '+', '-', or digit after exponent"
		return tParseError
	}
	for isDigitC(l.get()) {
	}
done:
	l.ungetc()
	l.numText = string(l.tokenStr)
	l.numIsInt = isInt
	l.numNegInt = neg
	return tNumber
}

// parser follows nlohmann's SAX parser: the same contexts and expectations in messages.
type parser struct {
	l    lexer
	last token
}

func (p *parser) next() token {
	p.last = p.l.scan()
	return p.last
}

func (p *parser) fail(expected token, context string) *nlError {
	msg := "syntax error "
	if context != "" {
		msg += "while parsing " + context + " "
	}
	msg += "- "
	if p.last == tParseError {
		msg += p.l.errMsg + "; last read: '" + p.l.tokenString() + "'"
	} else {
		msg += "unexpected " + p.last.String()
	}
	if expected != tUninitialized {
		msg += "; expected " + expected.String()
	}
	return &nlError{"[json.exception.parse_error.101] parse error" + p.l.position() + ": " + msg}
}

// parseJSON parses one document as nlohmann::json::parse does.
func parseJSON(s string) (*jv, error) {
	p := &parser{l: lexer{in: s, cur: eof}}
	p.next()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.next() != tEndOfInput {
		return nil, p.fail(tEndOfInput, "value")
	}
	return v, nil
}

func (p *parser) value(depth int) (*jv, error) {
	if depth > 5000 {
		return nil, &nlError{"[json.exception.parse_error.101] parse error" + p.l.position() + ": nesting too deep"}
	}
	switch p.last {
	case tTrue:
		return jbool(true), nil
	case tFalse:
		return jbool(false), nil
	case tNull:
		return &jv{kind: jNull}, nil
	case tString:
		return jstr(p.l.strVal), nil
	case tNumber:
		return p.number()
	case tBeginArray:
		arr := &jv{kind: jArray, a: []*jv{}}
		if p.next() == tEndArray {
			return arr, nil
		}
		for {
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr.a = append(arr.a, e)
			switch p.next() {
			case tValueSeparator:
				p.next()
				continue
			case tEndArray:
				return arr, nil
			}
			return nil, p.fail(tEndArray, "array")
		}
	case tBeginObject:
		obj := &jv{kind: jObject, o: map[string]*jv{}}
		if p.next() == tEndObject {
			return obj, nil
		}
		for {
			if p.last != tString {
				return nil, p.fail(tString, "object key")
			}
			key := p.l.strVal
			if p.next() != tNameSeparator {
				return nil, p.fail(tNameSeparator, "object separator")
			}
			p.next()
			e, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			obj.o[key] = e
			switch p.next() {
			case tValueSeparator:
				p.next()
				continue
			case tEndObject:
				return obj, nil
			}
			return nil, p.fail(tEndObject, "object")
		}
	case tParseError:
		return nil, p.fail(tUninitialized, "value")
	case tEndOfInput:
		if p.l.read == 1 {
			return nil, &nlError{"[json.exception.parse_error.101] parse error" + p.l.position() + ": attempting to parse an empty input; check that your input string or stream contains the expected JSON"}
		}
	}
	return nil, p.fail(tLiteralOrValue, "value")
}

func (p *parser) number() (*jv, error) {
	text := p.l.numText
	if p.l.numIsInt {
		if p.l.numNegInt {
			if i, err := strconv.ParseInt(text, 10, 64); err == nil {
				return jint(i), nil
			}
		} else if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			if u <= math.MaxInt64 {
				return jint(int64(u)), nil
			}
			return &jv{kind: jInt, unsigned: true, u: u}, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, &nlError{"[json.exception.out_of_range.406] number overflow parsing '" + p.l.tokenString() + "'"}
	}
	return &jv{kind: jFloat, f: f}, nil
}
