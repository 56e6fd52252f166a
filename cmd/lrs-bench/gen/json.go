package gen

import (
	"strconv"
	"unicode/utf8"
)

// writer appends compact JSON to b, putting the commas between values.
type writer struct {
	b     []byte
	comma bool // a value was written at this level: the next one needs a comma
}

func (w *writer) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
}

func (w *writer) begin(c byte) { w.sep(); w.b = append(w.b, c); w.comma = false }
func (w *writer) end(c byte)   { w.b = append(w.b, c); w.comma = true }

// key writes an object key; the value comes next.
func (w *writer) key(k string) {
	w.sep()
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
	w.comma = false
}

func (w *writer) str(s string)            { w.sep(); w.b = appendString(w.b, s) }
func (w *writer) raw(r []byte)            { w.sep(); w.b = append(w.b, r...) }
func (w *writer) integer(n int)           { w.sep(); w.b = strconv.AppendInt(w.b, int64(n), 10) }
func (w *writer) number(f float64)        { w.sep(); w.b = strconv.AppendFloat(w.b, f, 'f', -1, 64) }
func (w *writer) boolean(v bool)          { w.sep(); w.b = strconv.AppendBool(w.b, v) }
func (w *writer) kstr(k, s string)        { w.key(k); w.str(s) }
func (w *writer) kraw(k string, r []byte) { w.key(k); w.raw(r) }

// langMap writes a language map of (tag, text) pairs.
func (w *writer) langMap(pairs ...string) {
	w.begin('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		w.kstr(pairs[i], pairs[i+1])
	}
	w.end('}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			i++
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
