// Package storetest is the behaviour suite every statements.Store must
// pass. An adapter's test is a few lines:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) statements.Store {
//			s, err := sqlitestore.New(t.Context(), t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Run checks the contract written on statements.Store: atomic batches and
// idempotent retries, conflicts, voiding in any order of arrival,
// StatementRef term inheritance, every filter alone and combined, paging,
// the ordered log under concurrent writers (no statement skipped by a
// reader paging by position, none missing under ConsistentThrough),
// tenant walls, the count of live leases (statements.LeaseCounter), the
// store's size (statements.Sizer), and the rosters (replaced whole and
// atomically, their queries, random rosters of tenants sharing sourcedIds)
// with the tenants' identity values. It builds records from JSON
// statements as the HTTP layer does (statements.Assign, Fingerprint,
// Terms, RefTarget, Voids); Record does the same for adapters' own tests.
//
// It imports the statements domain and the standard library only, never a
// store adapter. Tests that race writers are smaller with -short.
package storetest
