package sqlitestore

import "context"

// EncodeZstdV1 returns a statement column value as schema versions 2 to 9
// wrote it, for the tests of older stores.
var EncodeZstdV1 = encodeZstdV1

// RecentStats returns how many statements have their postings in memory
// only and how many merges the background merger committed.
func RecentStats(s *Store) (pending, merges int64) {
	return s.recent.pending.Load(), s.recent.merges.Load()
}

// SetMergeHook sets a function each merge transaction runs before its
// commit.
func SetMergeHook(f func()) { mergeHook = f }

// MergeAll merges every recent posting into the postings table, as the
// stores of older versions held them.
func MergeAll(ctx context.Context, s *Store) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return s.mergeAll(ctx)
}
