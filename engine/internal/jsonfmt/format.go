// Package jsonfmt writes JSON strings and numbers exactly as nlohmann::json, KataGo's JSON
// library, writes them, so that tesuji's output of a KataGo line matches KataGo's bytes.
package jsonfmt

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendString writes s as a JSON string escaped the way nlohmann::json escapes: quote,
// backslash and control characters only; other text, non-ASCII included, is written as is.
// Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\ufffd"...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendFloat writes f the way nlohmann::json does: Grisu2's digits (see grisu.go), in plain
// notation when the decimal point falls within (-4, 15] digits of them and in
// exponent notation otherwise, always marked as a float ("19.0", "9.30622409e-05").
func AppendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("unsupported value %v", f)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...), nil
		}
		return append(b, "0.0"...), nil
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	var scratch [24]byte
	digits, exp := grisu2(scratch[:0], f)
	k := len(digits)
	n := k + exp // the decimal point sits after n digits
	const minExp, maxExp = -4, 15
	switch {
	case k <= n && n <= maxExp:
		b = append(b, digits[:k]...)
		for j := k; j < n; j++ {
			b = append(b, '0')
		}
		b = append(b, '.', '0')
	case 0 < n && n <= maxExp:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		b = append(b, digits[n:k]...)
	case minExp < n && n <= 0:
		b = append(b, '0', '.')
		for j := 0; j < -n; j++ {
			b = append(b, '0')
		}
		b = append(b, digits[:k]...)
	default:
		b = append(b, digits[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, digits[1:k]...)
		}
		b = append(b, 'e')
		x := n - 1
		if x < 0 {
			b = append(b, '-')
			x = -x
		} else {
			b = append(b, '+')
		}
		if x < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return b, nil
}
