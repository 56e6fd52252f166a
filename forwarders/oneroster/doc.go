// Package oneroster is the forwarders.Sink that writes completion-type
// statements back to a OneRoster 1.2 gradebook as results (DESIGN.md
// decision 8).
//
// A statement whose verb is one of Config.Verbs (default passed, failed,
// completed, scored and cmi5 satisfied) becomes one result, PUT to
// {base}/results/{sourcedId} with the body {"result": {...}}. The student
// is the actor's account name when the account's home page is the
// configured identity home page; the line item and the class are the
// sourcedIds in the context extensions ExtLineItem and ExtClass. The
// result's sourcedId is a UUIDv5 of tenant, line item and student, so a
// statement sent twice writes the same result. Requests carry an OAuth 2
// client-credentials token with the gradebook.createput scope.
//
// A statement without a student or a line item is skipped and counted. A
// 429, a 5xx or a network failure makes Send fail, so the relay retries; a
// 400, 404 or 422 is a dead letter: logged and counted, and the relay goes
// on. Dead letters are not kept for replay yet.
//
// It imports statements, forwarders, zerolog and google/uuid; not lrs, not
// the stores.
package oneroster
