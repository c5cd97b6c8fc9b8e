package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tesuji/tesuji/engine/internal/jsonfmt"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// This file holds the JSON reader and writer behind the protocol types. KataGo's lines are
// decoded in one pass by hand rather than through encoding/json, which would scan every
// moveInfo several times to find the keys this package does not know; the router decodes
// hundreds of lines a second per GPU and a 19x19 line with ownership is hundreds of KB.
// The writer prints like KataGo's JSON library (nlohmann::json): keys in byte order,
// floats with their shortest digits and a ".0" when integral, so a decoded KataGo line
// re-encodes to the same bytes.

// decoder reads one JSON document strictly (RFC 8259): anything encoding/json rejects as
// syntax, it rejects too.
type decoder struct {
	data []byte
	pos  int
}

// errSyntax is wrapped by every decoding error so callers can tell malformed input apart.
var errSyntax = errors.New("invalid json")

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end of input.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// end checks that nothing but space follows the document.
func (d *decoder) end() error {
	if d.peek() != 0 || d.pos < len(d.data) {
		return d.errorf("unexpected data after the top-level value")
	}
	return nil
}

// null consumes a null literal if one is next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && bytes.HasPrefix(d.data[d.pos:], []byte("null")) {
		d.pos += 4
		return true
	}
	return false
}

// objectStart consumes '{'. Keys then come from nextKey until it reports false.
func (d *decoder) objectStart() error {
	if d.peek() != '{' {
		return d.errorf("expected an object")
	}
	d.pos++
	return nil
}

// nextKey returns the next key of the current object, positioned before its value. The key
// aliases the input or a scratch buffer; it is valid until the next call.
func (d *decoder) nextKey(first *bool) ([]byte, bool, error) {
	c := d.peek()
	if c == '}' {
		d.pos++
		return nil, false, nil
	}
	if !*first {
		if c != ',' {
			return nil, false, d.errorf("expected ',' or '}' in object")
		}
		d.pos++
		c = d.peek()
	}
	*first = false
	if c != '"' {
		return nil, false, d.errorf("expected a string key")
	}
	key, err := d.stringBytes()
	if err != nil {
		return nil, false, err
	}
	if d.peek() != ':' {
		return nil, false, d.errorf("expected ':' after object key")
	}
	d.pos++
	return key, true, nil
}

// arrayStart consumes '['. Elements then follow each true from nextElem.
func (d *decoder) arrayStart() error {
	if d.peek() != '[' {
		return d.errorf("expected an array")
	}
	d.pos++
	return nil
}

func (d *decoder) nextElem(first *bool) (bool, error) {
	c := d.peek()
	if c == ']' {
		d.pos++
		return false, nil
	}
	if !*first {
		if c != ',' {
			return false, d.errorf("expected ',' or ']' in array")
		}
		d.pos++
	}
	*first = false
	return true, nil
}

// stringBytes reads a string and returns its decoded bytes. Plain strings alias the input;
// strings with escapes or invalid UTF-8 are decoded by encoding/json so both agree exactly.
func (d *decoder) stringBytes() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.errorf("expected a string")
	}
	start := d.pos
	d.pos++
	plain, ascii := true, true
	for {
		if d.pos >= len(d.data) {
			return nil, d.errorf("unterminated string")
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			raw := d.data[start:d.pos]
			if plain && (ascii || utf8.Valid(raw)) {
				return raw[1 : len(raw)-1], nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				d.pos = start
				return nil, d.errorf("invalid string: %v", err)
			}
			return []byte(s), nil
		case c == '\\':
			plain = false
			d.pos++
			if d.pos >= len(d.data) {
				return nil, d.errorf("unterminated string")
			}
			switch d.data[d.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos++
			case 'u':
				if d.pos+5 > len(d.data) {
					return nil, d.errorf("short unicode escape")
				}
				for _, h := range d.data[d.pos+1 : d.pos+5] {
					if !isHex(h) {
						return nil, d.errorf("invalid unicode escape")
					}
				}
				d.pos += 5
			default:
				return nil, d.errorf("invalid escape")
			}
		case c < 0x20:
			return nil, d.errorf("control character in string")
		default:
			if c >= 0x80 {
				ascii = false
			}
			d.pos++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// str reads a string value. Short strings that name a board point or a player are shared
// rather than allocated: a result holds hundreds of them.
func (d *decoder) str() (string, error) {
	b, err := d.stringBytes()
	if err != nil {
		return "", err
	}
	if len(b) <= 4 {
		if s, ok := interned[string(b)]; ok {
			return s, nil
		}
	}
	return string(b), nil
}

// interned holds GTP vertices up to 25x25 plus the player and pass strings.
var interned = func() map[string]string {
	m := make(map[string]string, 700)
	const cols = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
	for _, c := range cols {
		for row := 1; row <= 25; row++ {
			s := string(c) + strconv.Itoa(row)
			m[s] = s
		}
	}
	for _, s := range []string{"pass", "B", "W", "b", "w"} {
		m[s] = s
	}
	return m
}()

// number reads a number literal with JSON's grammar and returns its text, and whether it
// is an integer literal (no fraction, no exponent).
func (d *decoder) number() ([]byte, bool, error) {
	d.ws()
	start := d.pos
	isInt := true
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.pos < len(d.data) && '1' <= d.data[d.pos] && d.data[d.pos] <= '9':
		for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
			d.pos++
		}
	default:
		return nil, false, d.errorf("expected a number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		isInt = false
		d.pos++
		if d.pos >= len(d.data) || !isDigit(d.data[d.pos]) {
			return nil, false, d.errorf("expected a digit after the decimal point")
		}
		for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
			d.pos++
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		isInt = false
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.pos >= len(d.data) || !isDigit(d.data[d.pos]) {
			return nil, false, d.errorf("expected a digit in the exponent")
		}
		for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
			d.pos++
		}
	}
	return d.data[start:d.pos], isInt, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// bytesString views b as a string without copying; the callers below never keep it.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (d *decoder) float() (float64, error) {
	lit, _, err := d.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(bytesString(lit), 64)
	if err != nil {
		return 0, d.errorf("number %s out of range for a float", string(lit))
	}
	return f, nil
}

func (d *decoder) int() (int, error) {
	lit, isInt, err := d.number()
	if err != nil {
		return 0, err
	}
	if !isInt {
		return 0, d.errorf("number %s is not an integer", string(lit))
	}
	n, err := strconv.ParseInt(bytesString(lit), 10, strconv.IntSize)
	if err != nil {
		return 0, d.errorf("number %s out of range for an integer", string(lit))
	}
	return int(n), nil
}

func (d *decoder) bool() (bool, error) {
	switch d.peek() {
	case 't':
		if bytes.HasPrefix(d.data[d.pos:], []byte("true")) {
			d.pos += 4
			return true, nil
		}
	case 'f':
		if bytes.HasPrefix(d.data[d.pos:], []byte("false")) {
			d.pos += 5
			return false, nil
		}
	}
	return false, d.errorf("expected a boolean")
}

// skip reads any value, checking its syntax, and returns its raw text.
func (d *decoder) skip() ([]byte, error) {
	return d.skipDepth(0)
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack; encoding/json's own
// limit is 10000.
const maxDepth = 10000

func (d *decoder) skipDepth(depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, d.errorf("nesting too deep")
	}
	c := d.peek()
	start := d.pos
	switch {
	case c == '{':
		d.pos++
		first := true
		for {
			_, ok, err := d.nextKey(&first)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			if _, err := d.skipDepth(depth + 1); err != nil {
				return nil, err
			}
		}
	case c == '[':
		d.pos++
		first := true
		for {
			ok, err := d.nextElem(&first)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			if _, err := d.skipDepth(depth + 1); err != nil {
				return nil, err
			}
		}
	case c == '"':
		if _, err := d.stringBytes(); err != nil {
			return nil, err
		}
	case c == 't' || c == 'f':
		if _, err := d.bool(); err != nil {
			return nil, err
		}
	case c == 'n':
		if !d.null() {
			return nil, d.errorf("invalid literal")
		}
	case c == '-' || isDigit(c):
		if _, _, err := d.number(); err != nil {
			return nil, err
		}
	default:
		return nil, d.errorf("expected a value")
	}
	return d.data[start:d.pos], nil
}

// raw reads any value and returns a copy of its text, for the Extra maps.
func (d *decoder) raw() (json.RawMessage, error) {
	b, err := d.skip()
	if err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.Clone(b)), nil
}

func (d *decoder) floats() ([]float64, error) {
	if err := d.arrayStart(); err != nil {
		return nil, err
	}
	out := []float64{}
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		f, err := d.float()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
}

func (d *decoder) ints() ([]int, error) {
	if err := d.arrayStart(); err != nil {
		return nil, err
	}
	out := []int{}
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		n, err := d.int()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
}

func (d *decoder) strs() ([]string, error) {
	if err := d.arrayStart(); err != nil {
		return nil, err
	}
	out := []string{}
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
}

// Nullable readers: JSON null leaves the Go zero value, as encoding/json does.

func (d *decoder) optFloat() (*float64, error) {
	if d.null() {
		return nil, nil
	}
	f, err := d.float()
	if err != nil {
		return nil, err
	}
	return &f, nil
}

func (d *decoder) optInt() (*int, error) {
	if d.null() {
		return nil, nil
	}
	n, err := d.int()
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func (d *decoder) optBool() (*bool, error) {
	if d.null() {
		return nil, nil
	}
	b, err := d.bool()
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func (d *decoder) nFloat() (float64, error) {
	if d.null() {
		return 0, nil
	}
	return d.float()
}

func (d *decoder) nInt() (int, error) {
	if d.null() {
		return 0, nil
	}
	return d.int()
}

func (d *decoder) nBool() (bool, error) {
	if d.null() {
		return false, nil
	}
	return d.bool()
}

func (d *decoder) nStr() (string, error) {
	if d.null() {
		return "", nil
	}
	return d.str()
}

func (d *decoder) nFloats() ([]float64, error) {
	if d.null() {
		return nil, nil
	}
	return d.floats()
}

func (d *decoder) nInts() ([]int, error) {
	if d.null() {
		return nil, nil
	}
	return d.ints()
}

func (d *decoder) nStrs() ([]string, error) {
	if d.null() {
		return nil, nil
	}
	return d.strs()
}

// fieldError names the key whose value could not be decoded.
func fieldError(key []byte, err error) error {
	return fmt.Errorf("field %q: %w", key, err)
}

// setExtra records an unknown key, copying it out of the input.
func setExtra(m *map[string]json.RawMessage, key []byte, d *decoder) error {
	v, err := d.raw()
	if err != nil {
		return err
	}
	if *m == nil {
		*m = make(map[string]json.RawMessage)
	}
	(*m)[string(key)] = v
	return nil
}

// objWriter writes one JSON object with its keys in byte order. Known keys are given in
// order by the caller; the keys of the Extra map are merged in between, and an Extra key
// that names a known field is dropped in favour of the field.
type objWriter struct {
	b      []byte
	first  bool
	extra  map[string]json.RawMessage
	keys   []string
	next   int
	err    error
	prefix string // the type being written, for errors
}

func newObjWriter(b []byte, extra map[string]json.RawMessage, prefix string) *objWriter {
	w := &objWriter{b: append(b, '{'), first: true, extra: extra, prefix: prefix}
	if len(extra) > 0 {
		w.keys = make([]string, 0, len(extra))
		for k := range extra {
			w.keys = append(w.keys, k)
		}
		slices.Sort(w.keys)
	}
	return w
}

func (w *objWriter) rawKey(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = jsonfmt.AppendString(w.b, k)
	w.b = append(w.b, ':')
}

// flushExtra writes the Extra keys that sort before k; it reports whether Extra also has k.
func (w *objWriter) flushExtra(k string, all bool) {
	for w.next < len(w.keys) {
		ek := w.keys[w.next]
		if !all && ek >= k {
			if ek == k {
				w.next++ // the known field wins
			}
			return
		}
		w.next++
		w.rawKey(ek)
		w.appendRaw(w.extra[ek], ek)
	}
}

func (w *objWriter) appendRaw(v json.RawMessage, key string) {
	if len(v) == 0 {
		w.fail(fmt.Errorf("%s: empty raw value for key %q", w.prefix, key))
		return
	}
	// Compact also validates; a raw value must not carry a newline onto KataGo's stdin.
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		w.fail(fmt.Errorf("%s: invalid raw value for key %q: %w", w.prefix, key, err))
		return
	}
	w.b = append(w.b, buf.Bytes()...)
}

func (w *objWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *objWriter) key(k string) {
	w.flushExtra(k, false)
	w.rawKey(k)
}

func (w *objWriter) str(k, v string) {
	w.key(k)
	w.b = jsonfmt.AppendString(w.b, v)
}

func (w *objWriter) strOmit(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *objWriter) int(k string, v int) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

func (w *objWriter) optInt(k string, v *int) {
	if v != nil {
		w.int(k, *v)
	}
}

func (w *objWriter) float(k string, v float64) {
	w.key(k)
	var err error
	w.b, err = jsonfmt.AppendFloat(w.b, v)
	if err != nil {
		w.fail(fmt.Errorf("%s: key %q: %w", w.prefix, k, err))
	}
}

func (w *objWriter) optFloat(k string, v *float64) {
	if v != nil {
		w.float(k, *v)
	}
}

func (w *objWriter) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *objWriter) optBool(k string, v *bool) {
	if v != nil {
		w.bool(k, *v)
	}
}

func (w *objWriter) boolOmit(k string, v bool) {
	if v {
		w.bool(k, v)
	}
}

func (w *objWriter) floats(k string, v []float64) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, f := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		var err error
		w.b, err = jsonfmt.AppendFloat(w.b, f)
		if err != nil {
			w.fail(fmt.Errorf("%s: key %q: %w", w.prefix, k, err))
		}
	}
	w.b = append(w.b, ']')
}

func (w *objWriter) ints(k string, v []int) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, n := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendInt(w.b, int64(n), 10)
	}
	w.b = append(w.b, ']')
}

func (w *objWriter) strs(k string, v []string) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, s := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = jsonfmt.AppendString(w.b, s)
	}
	w.b = append(w.b, ']')
}

func (w *objWriter) raw(k string, v json.RawMessage) {
	if v == nil {
		return
	}
	w.key(k)
	w.appendRaw(v, k)
}

// value writes v with encoding/json, for the free-form overrideSettings object.
func (w *objWriter) value(k string, v any) {
	w.key(k)
	b, err := json.Marshal(v)
	if err != nil {
		w.fail(fmt.Errorf("%s: key %q: %w", w.prefix, k, err))
		return
	}
	w.b = append(w.b, b...)
}

func (w *objWriter) close() ([]byte, error) {
	w.flushExtra("", true)
	w.b = append(w.b, '}')
	return w.b, w.err
}
