// Package profile loads xAPI Profiles 1.0 (JSON-LD documents, read as
// plain JSON as the profile specification allows) and checks statements
// against their Statement Templates.
//
// It owns the profile's shape (Parse refuses a broken document with a
// LoadError that names each problem's place), template matching by the
// determining properties (verb, objectActivityType, the four context
// activity types, attachmentUsageType), the template rules (JSONPath
// location and selector, presence included/excluded/recommended, any,
// all, none) and the StatementRef templates, which are checked through a
// caller's Resolve function or reported as Unchecked. Each violation names
// the template, the rule's index, its location and what was found.
//
// Patterns are parsed and their shape is checked, but statements are not
// matched against them: pattern validation needs the statements of a whole
// registration and is not done here. Extension concepts' schema and
// inlineSchema are kept but not applied to extension values.
//
// Documents are read as JSON-LD compaction writes them: an array of one
// IRI or value may be the IRI or value itself, a language map may be a
// plain string. A concept's or template's inScheme may be the profile's
// id as well as one of its versions'.
//
// The JSONPath subset is the one the profile specification allows
// (structure document, section 8.1); anything else in a rule is a load
// error, never a panic at check time.
//
// The package is pure: no I/O, no logging, no global state. It imports
// only the standard library; it must not import lrs, the stores or
// forwarders.
package profile
