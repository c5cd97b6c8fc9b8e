// Package envfile reads env-file lines, the format of the files under /etc/tesuji and of
// the SSM parameter that holds a worker's secrets, and layers such settings under a
// process's real environment. It is a package of its own so that its fuzz target
// builds in seconds.
package envfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Getenv layers settings under an environment lookup: a variable set (non-empty) in
// the environment wins, else the settings' value. `tesuji worker` passes the result
// where it would pass os.Getenv, so flags still win over both.
func Getenv(getenv func(string) string, settings map[string]string) func(string) string {
	return func(key string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return settings[key]
	}
}

// ErrSyntax is what every Parse syntax error matches with errors.Is.
var ErrSyntax = errors.New("envfile: syntax error")

// Parse reads env-file lines, the format of /etc/tesuji/*.env and of the SSM
// parameter, a subset that systemd's EnvironmentFile reads the same way:
//
//	# a comment, and blank lines, are skipped
//	KEY=value                  unquoted: trimmed; " #" starts a comment
//	export KEY=value           the shell's export prefix is allowed
//	KEY="a \"quoted\" value"   double quotes: \\ \" \n \t \$ \` escapes
//	KEY='literal $value'       single quotes: no escapes
//
// A later line wins over an earlier one with the same key. Errors name the line, never
// its value: values are secrets.
func Parse(r io.Reader) (map[string]string, error) {
	out := make(map[string]string)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, err := parseEnvLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %s", ErrSyntax, n, err)
		}
		out[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("envfile: read: %w", err)
	}
	return out, nil
}

func parseEnvLine(line string) (key, value string, err error) {
	if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		line = strings.TrimSpace(rest)
	}
	key, raw, ok := strings.Cut(line, "=")
	if !ok {
		return "", "", errors.New("no '='")
	}
	key = strings.TrimSpace(key)
	if !validKey(key) {
		return "", "", errors.New("a key is letters, digits and '_', not starting with a digit")
	}
	raw = strings.TrimLeft(raw, " \t")
	if raw == "" {
		return key, "", nil
	}
	var rest string
	switch raw[0] {
	case '"':
		var b strings.Builder
		i := 1
		for ; i < len(raw) && raw[i] != '"'; i++ {
			c := raw[i]
			if c == '\\' && i+1 < len(raw) {
				i++
				switch raw[i] {
				case 'n':
					c = '\n'
				case 't':
					c = '\t'
				case '\\', '"', '$', '`':
					c = raw[i]
				default:
					b.WriteByte('\\')
					c = raw[i]
				}
			}
			b.WriteByte(c)
		}
		if i >= len(raw) {
			return "", "", errors.New("unterminated double quote")
		}
		value, rest = b.String(), raw[i+1:]
	case '\'':
		end := strings.IndexByte(raw[1:], '\'')
		if end < 0 {
			return "", "", errors.New("unterminated single quote")
		}
		value, rest = raw[1:1+end], raw[2+end:]
	default:
		value = raw
		for i := 1; i < len(raw); i++ {
			if raw[i] == '#' && (raw[i-1] == ' ' || raw[i-1] == '\t') {
				value = raw[:i]
				break
			}
		}
		return key, strings.TrimSpace(value), nil
	}
	rest = strings.TrimSpace(rest)
	if rest != "" && rest[0] != '#' {
		return "", "", errors.New("text after the closing quote")
	}
	return key, value, nil
}

func validKey(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
