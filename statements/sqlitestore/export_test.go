package sqlitestore

// EncodeZstdV1 returns a statement column value as schema versions 2 to 9
// wrote it, for the tests of older stores.
var EncodeZstdV1 = encodeZstdV1
