// Package ui serves the pages people read under /ui/: a teacher's classes,
// class overviews, a student's stream and an activity in a class, kept up
// to date by live updates (static/live.js over Server-Sent Events); a
// learner's own activity and the download of their data; and the vendor
// page, /ui/sandbox, where an app vendor signed in with its sandbox
// credential (HTTP Basic, checked by lrs) reads its sandbox's report. Pages are
// rendered on the server from embedded templates; every word comes from a
// message catalog (locales/fi.json, sv.json, en.json) and every language
// map of a statement goes through Pick.
//
// What a person may read is decided by the roster rule of lrs/people,
// given by lrs in Config; the package has no rule of its own.
//
// It may import statements, lrs/people, gin, html/template and embed; it
// must not import lrs, store adapters or forwarders.
package ui
