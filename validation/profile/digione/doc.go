// Package digione holds the DigiOne xAPI profile: what learning apps report
// to the DigiOne LRS, as an xAPI Profile 1.0 document (digione.jsonld,
// embedded) that package profile loads and checks statements against.
//
// One requirement of the profile depends on the tenant and cannot be
// written in the document: the actor's account.homePage must be the
// tenant's identity home page. HomePageRule gives it as an extra rule to
// pass to each check.
//
// The package is pure: it imports only the standard library and
// validation/profile.
package digione
