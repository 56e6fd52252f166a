// Package oneroster writes completion-type statements back to each
// tenant's OneRoster 1.2 gradebook as results (DESIGN.md decision 8).
//
// It works in two steps, each durable in the store (statements.SinkStore):
//
//  1. Sink.Send, fed by the relay with its own cursor, maps each statement
//     of a tenant with a TenantConfig to a result and records it in the
//     result's item: the statements of one result (a learner on a line
//     item) are kept newest first, by statement timestamp, so an older
//     statement stored later never overwrites a newer one. A voiding
//     statement removes the voided statement from its result: the next
//     newest is written instead, or, when none is left, the result once
//     more with status tobedeleted. Send only writes to the store, so a
//     gradebook that is down never holds back the relay.
//  2. Sink.Run, in the process holding the delivery lease, writes each
//     result that is due: PUT {base}/results/{sourcedId} with the body
//     {"result": {...}} and an OAuth 2 client-credentials token
//     (golang.org/x/oauth2/clientcredentials, scope gradebook.createput),
//     cached and renewed on 401. A 429, a 5xx or no answer makes the result
//     due again after a backoff (or the Retry-After), and holds back that
//     tenant's other results meanwhile, not other tenants'. A 400, 404 or
//     422 makes it a dead letter (StateDead) with the answer kept, listed
//     and replayed through Admin (the admin API and the CLI).
//
// Mapping: the verb must be one of the tenant's verbs (default passed,
// failed, completed, scored and cmi5 satisfied). The student is the actor's
// account name when the account's home page is the tenant's identity home
// page (MPASSid by default), through the tenant's student table when it has
// the name (required with RequireStudentMapping). The line item and class
// are the sourcedIds in the context extensions ExtLineItem and ExtClass,
// else the tenant's activity table entry of the object's id. The result's
// sourcedId is a UUIDv5 of tenant, line item and student, so writing it
// again is harmless. Statements that cannot be mapped are skipped and
// counted by reason.
//
// Rosters: a Syncer reads a tenant's roster from its OneRoster rostering
// service (TenantConfig.RosterURL, same OAuth client, scope
// roster-core.readonly or roster.readonly): the collections orgs, users,
// classes and enrollments, paged with limit and offset until a page is
// empty, X-Total-Count is reached or, without a count, a short page has no
// Link to a next one; within bounds of pages, records and bytes. Records
// with status tobedeleted, and enrollments of users or classes not in the
// roster, are left out. Only a whole read replaces the stored roster
// (statements.RosterStore.ReplaceRoster); a failure keeps the last good
// one and is recorded in the tenant's SyncStatus (item "roster-status"),
// reported by Failing (/readyz) and WriteMetrics. Run syncs every tenant
// with a rostering URL on a schedule, under a lease; Sync runs one now
// (the admin API and the CLI).
//
// It imports statements, forwarders, zerolog, google/uuid and x/oauth2;
// not lrs, not the stores.
package oneroster
