package lrs_test

import "testing"

// BenchmarkPages_Overview measures the class overview page, GET
// /ui/classes/{class}, end to end through the HTTP handler (sign-in by
// bearer token, roster rule, overview, template, body read whole) for a
// class of 30 in a tenant of 100,000 statements (10,000 with -short), and
// reports the median and 95th percentile of the requests.
func BenchmarkPages_Overview(b *testing.B) {
	base, token := overviewFixture(b)
	benchPercentiles(b, base+"/ui/classes/c000?since=all&sort=-last", token)
}
