// Package validation checks xAPI statements and agent parameters against
// the rules of the xAPI specification, version 1.0.3 or 2.0.0 (IEEE
// 9274.1.1), before an LRS stores or uses them.
//
// It owns the statement rules: structure (embedded JSON Schemas compiled
// once, one set per version) and everything a schema cannot say (formats of
// IRIs, UUIDs, language tags, timestamps and durations, inverse functional
// identifiers, score ranges, interaction components, SubStatement and
// voiding rules). Each violation is an Error naming a JSON Pointer and the
// rule broken, e.g. "/actor/mbox: must be a mailto: IRI".
//
// ParseStatements and ParseStatement also hand back each valid statement,
// decoded and as its bytes, so that callers parse a request only once.
//
// The package is pure: no I/O, no logging, no global state beyond the
// compiled schemas. It imports only the standard library and gojsonschema;
// it must not import lrs, the store adapters or forwarders.
package validation
