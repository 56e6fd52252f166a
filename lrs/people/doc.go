// Package people decides what a signed-in person may read, and reads it:
// the roster rule (DESIGN.md decision 12), a class's overview, a
// learner's statements and the live stream of a class.
//
// Every read a person makes goes through Scope.MayRead: a learner reads
// their own statements, a teacher those of the students of the classes
// they teach, a principal those of the students of their school. Nobody
// reads across tenants, and a person the roster does not know reads
// nothing.
//
// The package knows no HTTP: the people API in package lrs serves what it
// returns. It imports statements and the standard library only; the roster
// and the identity rule of statement actors come in through the small
// interfaces declared here.
package people
