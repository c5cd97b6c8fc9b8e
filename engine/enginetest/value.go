package enginetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// This file reads a query line with encoding/json into a value tree that keeps what
// KataGo's validation looks at and encoding/json's generic decoding loses: whether a
// number was written as an integer. Action answers echo the parsed query with its keys
// sorted, as KataGo does.

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

// float converts a number to a double, as KataGo reads one.
func (v *jv) float() float64 {
	switch {
	case v.kind == jInt && v.unsigned:
		return float64(v.u)
	case v.kind == jInt:
		return float64(v.i)
	}
	return v.f
}

// int64 converts a number to an integer, as KataGo reads one (truncating floats).
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

// ints converts an array of numbers; ok is false where KataGo would refuse it.
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

// str returns a string value; ok is false for any other kind.
func (v *jv) str() (string, bool) {
	if !v.isString() {
		return "", false
	}
	return v.s, true
}

// parseJSON reads one JSON document.
func parseJSON(s string) (*jv, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("syntax error: text after the JSON value")
	}
	return fromAny(x)
}

func fromAny(x any) (*jv, error) {
	switch x := x.(type) {
	case nil:
		return &jv{kind: jNull}, nil
	case bool:
		return &jv{kind: jBool, b: x}, nil
	case string:
		return &jv{kind: jString, s: x}, nil
	case json.Number:
		lit := string(x)
		if !strings.ContainsAny(lit, ".eE") {
			if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
				return &jv{kind: jInt, i: i}, nil
			}
			if u, err := strconv.ParseUint(lit, 10, 64); err == nil {
				return &jv{kind: jInt, unsigned: true, u: u}, nil
			}
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return nil, fmt.Errorf("number out of range: %s", lit)
		}
		return &jv{kind: jFloat, f: f}, nil
	case []any:
		v := &jv{kind: jArray, a: make([]*jv, len(x))}
		for i, e := range x {
			var err error
			if v.a[i], err = fromAny(e); err != nil {
				return nil, err
			}
		}
		return v, nil
	case map[string]any:
		v := &jv{kind: jObject, o: make(map[string]*jv, len(x))}
		for k, e := range x {
			var err error
			if v.o[k], err = fromAny(e); err != nil {
				return nil, err
			}
		}
		return v, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", x)
}

// toAny is v as encoding/json's generic values, integers kept exact.
func (v *jv) toAny() any {
	switch v.kind {
	case jBool:
		return v.b
	case jInt:
		if v.unsigned {
			return json.Number(strconv.FormatUint(v.u, 10))
		}
		return json.Number(strconv.FormatInt(v.i, 10))
	case jFloat:
		return v.f
	case jString:
		return v.s
	case jArray:
		a := make([]any, len(v.a))
		for i, e := range v.a {
			a[i] = e.toAny()
		}
		return a
	case jObject:
		o := make(map[string]any, len(v.o))
		for k, e := range v.o {
			o[k] = e.toAny()
		}
		return o
	}
	return nil
}

// dump prints v compactly, object keys in byte order, as KataGo echoes a query.
func (v *jv) dump() string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v.toAny()); err != nil {
		panic(fmt.Sprintf("fakekatago: encode %v: %v", v.kind, err)) // a parsed value always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func jstr(s string) *jv { return &jv{kind: jString, s: s} }
func jint(i int64) *jv  { return &jv{kind: jInt, i: i} }
func jbool(b bool) *jv  { return &jv{kind: jBool, b: b} }
