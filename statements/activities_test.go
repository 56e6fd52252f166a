package statements_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/digione/lrs/statements"
)

func TestMergeDefinition(t *testing.T) {
	tests := []struct {
		name              string
		cur               string // "" = none
		curAuth, nextAuth bool
		next              string
		want              string
		wantAuth          bool
		wantErr           bool
	}{
		{name: "first", next: `{"name":{"en":"A"}}`, want: `{"name":{"en":"A"}}`},
		{name: "first authoritative", next: `{"name":{"en":"A"}}`, nextAuth: true, want: `{"name":{"en":"A"}}`, wantAuth: true},
		{name: "languages merge", cur: `{"name":{"en":"A"}}`, next: `{"name":{"fi":"Ä"}}`, want: `{"name":{"en":"A","fi":"Ä"}}`},
		{name: "newer language wins", cur: `{"name":{"en":"Colour"}}`, next: `{"name":{"en":"Color"}}`, want: `{"name":{"en":"Color"}}`},
		{name: "description merges", cur: `{"description":{"en":"D"}}`, next: `{"description":{"sv":"B"},"name":{"en":"N"}}`,
			want: `{"description":{"en":"D","sv":"B"},"name":{"en":"N"}}`},
		{name: "extensions merge", cur: `{"extensions":{"http://x/a":1}}`, next: `{"extensions":{"http://x/b":{"k":[1,2]}}}`,
			want: `{"extensions":{"http://x/a":1,"http://x/b":{"k":[1,2]}}}`},
		{name: "other properties replaced", cur: `{"type":"http://x/t1","moreInfo":"http://x/m"}`, next: `{"type":"http://x/t2"}`,
			want: `{"type":"http://x/t2","moreInfo":"http://x/m"}`},
		{name: "interaction replaced", cur: `{"interactionType":"choice","choices":[{"id":"a","description":{"en":"A"}}]}`,
			next: `{"interactionType":"choice","choices":[{"id":"b","description":{"en":"B"}}]}`,
			want: `{"interactionType":"choice","choices":[{"id":"b","description":{"en":"B"}}]}`},
		{name: "authoritative replaces", cur: `{"name":{"en":"A"},"type":"http://x/t1"}`, next: `{"name":{"en":"B"},"type":"http://x/t2"}`, nextAuth: true,
			want: `{"name":{"en":"B"},"type":"http://x/t2"}`, wantAuth: true},
		{name: "non-authoritative only adds", cur: `{"name":{"en":"A"},"type":"http://x/t1","extensions":{"http://x/a":1}}`, curAuth: true,
			next:     `{"name":{"en":"B","fi":"F"},"type":"http://x/t2","moreInfo":"http://x/m","extensions":{"http://x/a":2,"http://x/b":3},"correctResponsesPattern":["x"]}`,
			want:     `{"name":{"en":"A","fi":"F"},"type":"http://x/t1","moreInfo":"http://x/m","extensions":{"http://x/a":1,"http://x/b":3},"correctResponsesPattern":["x"]}`,
			wantAuth: true},
		{name: "authoritative over authoritative", cur: `{"name":{"en":"A"}}`, curAuth: true, next: `{"name":{"en":"B"}}`, nextAuth: true,
			want: `{"name":{"en":"B"}}`, wantAuth: true},
		{name: "next not JSON", cur: `{"name":{"en":"A"}}`, next: `{"name":`, wantErr: true},
		{name: "next not an object", next: `[1]`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cur []byte
			if tc.cur != "" {
				cur = []byte(tc.cur)
			}
			got, gotAuth, err := statements.MergeDefinition(cur, tc.curAuth, []byte(tc.next), tc.nextAuth)
			if tc.wantErr {
				if statements.ErrorCode(err) != statements.EInvalid {
					t.Fatalf("err = %v, want %s", err, statements.EInvalid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("result %s: %v", got, err)
			}
			json.Unmarshal([]byte(tc.want), &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if gotAuth != tc.wantAuth {
				t.Errorf("authoritative = %v, want %v", gotAuth, tc.wantAuth)
			}
		})
	}
}
