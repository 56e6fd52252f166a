package statements

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

var errBadJSON = errors.New("malformed JSON object")

// objectMembers splits a JSON object into its members in order, each
// value kept as its raw bytes. It scans the bytes once without decoding
// the values, so it is cheap on statements that have passed validation;
// it still reports malformed input rather than trusting it.
func objectMembers(raw []byte) ([]member, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, errNotObject
	}
	i = skipSpace(raw, i+1)
	ms := make([]member, 0, 12)
	if i < len(raw) && raw[i] == '}' {
		return ms, nil
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return nil, errBadJSON
		}
		end, err := skipString(raw, i)
		if err != nil {
			return nil, err
		}
		key, err := unquote(raw[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, errBadJSON
		}
		start := skipSpace(raw, i+1)
		end, err = skipValue(raw, start)
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{key, raw[start:end:end]})
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return nil, errBadJSON
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			if skipSpace(raw, i+1) != len(raw) {
				return nil, errBadJSON
			}
			return ms, nil
		default:
			return nil, errBadJSON
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at i.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errBadJSON
}

// skipValue returns the index just past the value that starts at i.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errBadJSON
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errBadJSON
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' &&
		b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errBadJSON
	}
	return j, nil
}

// unquote returns the string a JSON string literal stands for.
func unquote(lit []byte) (string, error) {
	body := lit[1 : len(lit)-1]
	if bytes.IndexByte(body, '\\') >= 0 || !utf8.Valid(body) {
		var s string
		err := json.Unmarshal(lit, &s)
		return s, err
	}
	return string(body), nil
}

// arrayElements splits a JSON array into its elements, each kept as its
// raw bytes.
func arrayElements(raw []byte) ([][]byte, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, errBadJSON
	}
	i = skipSpace(raw, i+1)
	var out [][]byte
	if i < len(raw) && raw[i] == ']' {
		return out, nil
	}
	for {
		end, err := skipValue(raw, i)
		if err != nil {
			return nil, err
		}
		out = append(out, raw[i:end:end])
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return nil, errBadJSON
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case ']':
			return out, nil
		default:
			return nil, errBadJSON
		}
	}
}

// memberValue returns the raw value of the member key of the JSON object
// raw, or nil.
func memberValue(raw []byte, key string) []byte {
	ms, err := objectMembers(raw)
	if err != nil {
		return nil
	}
	for _, m := range ms {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// stringValue returns the string a raw JSON value stands for, if it is a
// string.
func stringValue(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	s, err := unquote(raw)
	return s, err == nil
}
