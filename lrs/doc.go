// Package lrs is the HTTP service of the LRS: the xAPI resources under
// /xapi/ with version negotiation, authentication and scopes, CORS, health,
// the mapping of statements.Error codes to HTTP status codes, and the
// OpenAPI document of it all (openapi.yaml, served at /openapi.json), and
// the vendor sandboxes with their built-in OneRoster provider under
// /sandbox/oneroster/.
//
// It depends on the statements domain and the validation package (and
// OpenTelemetry's trace API, for the span of each request); it must
// not import store adapters, Kafka or forwarders, with one exception:
// forwarders/oneroster, for oneroster.Admin (the gradebook write-back's
// operator actions, which need only the store) that the admin API serves,
// and for the write-back's mapping and result type, which the sandbox
// gradebook and its OneRoster provider use as production does.
// People's sign-in and the people API (lrs/signin) are mounted from
// Config.People through a small interface, so lrs does not import them.
// *gin.Context never leaves this package: handlers pass the request
// context down.
package lrs
