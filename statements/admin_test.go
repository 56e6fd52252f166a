package statements

import "testing"

func TestLimits_Over(t *testing.T) {
	def := Limits{Rate: 1000, Burst: 5000, Batch: 1000, QueryLimit: 500, BodyBytes: -1}
	for _, tc := range []struct {
		name    string
		in, out Limits
	}{
		{"ZeroTakesDefault", Limits{}, def},
		{"SetWins", Limits{Rate: 5, Batch: 10}, Limits{Rate: 5, Burst: 5000, Batch: 10, QueryLimit: 500, BodyBytes: -1}},
		{"NegativeIsNoLimitAndWins", Limits{Rate: -1, QueryLimit: -1}, Limits{Rate: -1, Burst: 5000, Batch: 1000, QueryLimit: -1, BodyBytes: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := tc.in.Over(def), tc.out; got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestFilter_TermsCredential(t *testing.T) {
	got := Filter{Verb: "https://example.org/v", Credential: "k1"}.Terms()
	if len(got) != 2 || got[1] != CredentialTerm("k1") || got[1] != "c|k1" {
		t.Errorf("got %v, want the verb term and c|k1", got)
	}
}
