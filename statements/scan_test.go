package statements

import (
	"bytes"
	"encoding/json"
	"testing"
)

// decoderMembers is objectMembers done with encoding/json: the reference.
func decoderMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		ms = append(ms, member{tok.(string), v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errBadJSON
	}
	return ms, nil
}

func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}], "d\"e":"x\\"} `, `{"a":{"b":{"c":[true,false,null]}},"e":-1.5e3}`,
		`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},"object":{"id":"http://x.fi/o"}}`,
		`{"a":"\u00e4\"}"}`, `{"a":1`, `[1]`, `{"a" 1}`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			objectMembers(raw) // must not panic
			return
		}
		got, gotErr := objectMembers(raw)
		want, wantErr := decoderMembers(raw)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s: err %v, want %v", raw, gotErr, wantErr)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d members, want %d", raw, len(got), len(want))
		}
		for i := range got {
			if got[i].key != want[i].key || !bytes.Equal(got[i].val, want[i].val) {
				t.Fatalf("%s: member %d = %q:%s, want %q:%s", raw, i, got[i].key, got[i].val, want[i].key, want[i].val)
			}
		}
	})
}
