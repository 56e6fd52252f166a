// Package gen generates realistic xAPI traffic for load tests: a seeded
// population of education providers (tenants), schools, classes, learners
// with MPASSid accounts, teachers, learning apps and their activities, and
// the statements the learners' apps send about them.
//
// Everything is a pure function of the seed: statement i of a seed is the
// same in every run (given the same Config), so a query benchmark can
// regenerate the statements a preload wrote and ask for agents, activities
// and registrations that exist.
//
// It imports only the standard library, so benchmarks anywhere in the
// module can use it.
package gen
