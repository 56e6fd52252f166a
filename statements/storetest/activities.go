package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/digione/lrs/statements"
)

var activityTests = []test{
	{"ErrNotFound", testActivityNotFound},
	{"First", testActivityFirst},
	{"MergeLanguages", testActivityMergeLanguages},
	{"NewerReplaces", testActivityNewerReplaces},
	{"Authoritative", testActivityAuthoritative},
	{"AuthoritativeOverAuthoritative", testActivityAuthoritativeOverAuthoritative},
	{"ErrInvalid", testActivityInvalid},
	{"TenantIsolation", testActivityTenantIsolation},
	{"ConcurrentMerges", testActivityConcurrentMerges},
}

const actID = "https://example.org/activities/merged"

func mustMerge(t testing.TB, s statements.Store, tenant, id string, def obj, auth bool) {
	t.Helper()
	if err := s.MergeActivityDefinition(t.Context(), tenant, id, mustJSON(def), auth); err != nil {
		t.Fatalf("MergeActivityDefinition: %v", err)
	}
}

// wantDefinition checks the canonical definition of id.
func wantDefinition(t testing.TB, s statements.Store, tenant, id string, want obj) {
	t.Helper()
	b, err := s.ActivityDefinition(t.Context(), tenant, id)
	if err != nil {
		t.Fatalf("ActivityDefinition(%s): %v", id, err)
	}
	var got obj
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("ActivityDefinition(%s) is not a JSON object: %s", id, b)
	}
	if !reflect.DeepEqual(got, clone(want)) {
		t.Errorf("definition of %s:\n got %s\nwant %s", id, mustJSON(got), mustJSON(want))
	}
}

func testActivityNotFound(t *testing.T, s statements.Store) {
	_, err := s.ActivityDefinition(t.Context(), tenantA, actID)
	wantCode(t, err, statements.ENotFound)
}

func testActivityFirst(t *testing.T, s statements.Store) {
	def := obj{"name": obj{"en-US": "Fractions"}, "type": "http://adlnet.gov/expapi/activities/lesson",
		"extensions": obj{"https://example.org/ext/level": 3.0}}
	mustMerge(t, s, tenantA, actID, def, false)
	wantDefinition(t, s, tenantA, actID, def)
}

func testActivityMergeLanguages(t *testing.T, s statements.Store) {
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Fractions"}}, false)
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"fi-FI": "Murtoluvut"}, "description": obj{"fi-FI": "Kuvaus"}}, false)
	mustMerge(t, s, tenantA, actID, obj{"extensions": obj{"https://example.org/ext/a": 1.0}}, false)
	mustMerge(t, s, tenantA, actID, obj{"extensions": obj{"https://example.org/ext/b": 2.0}}, false)
	wantDefinition(t, s, tenantA, actID, obj{
		"name":        obj{"en-US": "Fractions", "fi-FI": "Murtoluvut"},
		"description": obj{"fi-FI": "Kuvaus"},
		"extensions":  obj{"https://example.org/ext/a": 1.0, "https://example.org/ext/b": 2.0},
	})
}

func testActivityNewerReplaces(t *testing.T, s statements.Store) {
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Fractoins"}, "type": "https://example.org/types/a",
		"moreInfo": "https://example.org/a"}, false)
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Fractions"}, "type": "https://example.org/types/b"}, false)
	wantDefinition(t, s, tenantA, actID, obj{"name": obj{"en-US": "Fractions"}, "type": "https://example.org/types/b",
		"moreInfo": "https://example.org/a"})
	// Sending the same definition again changes nothing.
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Fractions"}}, false)
	wantDefinition(t, s, tenantA, actID, obj{"name": obj{"en-US": "Fractions"}, "type": "https://example.org/types/b",
		"moreInfo": "https://example.org/a"})
}

func testActivityAuthoritative(t *testing.T, s statements.Store) {
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Draft"}, "type": "https://example.org/types/draft"}, false)
	// An authoritative definition replaces what a non-authoritative one set.
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Fractions"}, "type": "https://example.org/types/lesson",
		"interactionType": "choice", "correctResponsesPattern": []any{"a"}}, true)
	// A non-authoritative one then only adds what is missing.
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Hijacked", "sv-SE": "Bråk"}, "type": "https://example.org/types/other",
		"correctResponsesPattern": []any{"b"}, "moreInfo": "https://example.org/more"}, false)
	wantDefinition(t, s, tenantA, actID, obj{
		"name":                    obj{"en-US": "Fractions", "sv-SE": "Bråk"},
		"type":                    "https://example.org/types/lesson",
		"interactionType":         "choice",
		"correctResponsesPattern": []any{"a"},
		"moreInfo":                "https://example.org/more",
	})
}

func testActivityAuthoritativeOverAuthoritative(t *testing.T, s statements.Store) {
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "One"}}, true)
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Two"}}, true)
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "Three"}}, false)
	wantDefinition(t, s, tenantA, actID, obj{"name": obj{"en-US": "Two"}})
}

func testActivityInvalid(t *testing.T, s statements.Store) {
	err := s.MergeActivityDefinition(t.Context(), tenantA, actID, []byte(`{"name":`), false)
	wantCode(t, err, statements.EInvalid)
	_, err = s.ActivityDefinition(t.Context(), tenantA, actID)
	wantCode(t, err, statements.ENotFound)
}

func testActivityTenantIsolation(t *testing.T, s statements.Store) {
	mustMerge(t, s, tenantA, actID, obj{"name": obj{"en-US": "A's"}}, true)
	_, err := s.ActivityDefinition(t.Context(), tenantB, actID)
	wantCode(t, err, statements.ENotFound)
	mustMerge(t, s, tenantB, actID, obj{"name": obj{"en-US": "B's"}}, false)
	wantDefinition(t, s, tenantA, actID, obj{"name": obj{"en-US": "A's"}})
	wantDefinition(t, s, tenantB, actID, obj{"name": obj{"en-US": "B's"}})
}

// testActivityConcurrentMerges merges one language each from many
// goroutines at once: every language must be in the result.
func testActivityConcurrentMerges(t *testing.T, s statements.Store) {
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	want := obj{}
	for i := range n {
		lang := fmt.Sprintf("x-lang%d", i)
		want[lang] = fmt.Sprint("name ", i)
		wg.Go(func() {
			def := obj{"name": obj{lang: fmt.Sprint("name ", i)}}
			if err := s.MergeActivityDefinition(t.Context(), tenantA, actID, mustJSON(def), i%3 == 0); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("MergeActivityDefinition: %v", err)
	}
	wantDefinition(t, s, tenantA, actID, obj{"name": want})
}
