// Package signin signs people in to the LRS through one OpenID Connect
// provider (MPASSid, the Finnish identity broker for education) and tells
// the people API who is asking: GET /auth/login, GET /auth/callback and
// POST /auth/logout for browsers, a sealed session cookie with CSRF
// protection, and Authorization: Bearer ID tokens for the DigiOne portal
// acting for a person. RequirePerson guards the people API under /api/,
// RequirePage the pages under /ui/ (sending a person to sign in first);
// PersonOf gives a handler the signed-in Person.
//
// What a person is comes from three claims of the ID token (or, when the
// ID token lacks them, of the provider's userinfo), each configurable,
// with MPASSid's names as defaults (data model 1.3 and its rules for
// multi-valued attributes, wiki.eduuni.fi, pages "MPASSid data model",
// "Moniarvoisten attribuuttien säännöt", "MPASSid-attribuuttien
// tarkistaminen", and the table of role codes):
//
//   - urn:mpass.id:uid, the person: the unique id of the user in the
//     education provider's user registry, the identifier MPASSid
//     recommends (it changes when the user moves to another registry).
//     The learner number (oppijanumero, urn:mpass.id:learnerId) is not
//     the default: MPASSid releases it only to services entitled to it.
//   - urn:mpass.id:role, the roles, multi-valued: each value is
//     "municipality;school code;group;role", and "municipality;school
//     code;role" when the education provider sends no group. The role is
//     a code (1 learner, 2 teacher, 3 administrative staff, 4 school
//     secretary, 5 substitute teacher, 6 principal; codes sent since
//     1/2024) or a name in Finnish, Swedish or English (Oppija, Oppilas,
//     Opiskelija / Inlärare, Elev / Learner; Opettaja / Lärare / Teacher;
//     Rehtori / Rektor / Principal). Only learners, teachers and
//     principals have a meaning for the LRS (the roster rule); values with
//     another role or a form not above are ignored.
//   - urn:mpass.id:educationProviderId, the tenant: the OID of the
//     education provider (koulutustoimija, e.g. 1.2.246.562.10.…), also
//     multi-valued. A tenant lists the values it owns; Config.Tenant maps
//     a value to its tenant.
//
// Several values of one claim arrive as a JSON array. The sources do not
// say how MPASSid's OpenID Connect interface joins several role values
// when it sends a single string; a string whose ';'-separated fields are
// a multiple of four, more than four, is read as that many role values
// of four fields each, in case the values were joined with ';' as
// education providers join them toward MPASSid.
//
// A person may hold several roles (a teacher in two schools, a
// principal who also teaches): Person keeps them all, with their schools
// and groups, for the roster rule; Person.Role is the strongest of them
// (principal, then teacher, then learner), for what one label must say.
// A person whose values name no tenant, or two tenants, or who holds no
// role the LRS knows, is refused sign-in (403).
//
// Sessions are sealed cookies (AES-256-GCM): the server keeps nothing
// about a person, so any replica serves any request when all replicas
// share the session key. A session holds the tenant, the person id, the
// roles and tenant claim values, and its times; never a name. A cookie
// holds about 4 KB, some fifty roles: a person with more is refused
// sign-in (403) rather than given a cookie the browser would drop. The login
// under way (state, nonce, PKCE verifier, return path) is a second sealed
// cookie that lives ten minutes, so hostile clients looping on
// /auth/login cost the server no memory.
//
// Without a provider (Config.Issuer empty) no one signs in through
// /auth/login, which answers 404; the only sessions are those the LRS
// starts with SignInAs for a sandbox's test people, whom the vendor
// opens from the vendor page after proving the sandbox's credential.
// They are people, not the credential: a test teacher reads the
// sandbox's test classes through the roster rule like any teacher, and
// no credential reads through them (decision 11). A sandbox tenant owns
// no identity values, so no one the provider signs in lands in one.
//
// It may import statements, gin, zerolog, go-oidc and oauth2; it must not
// import the lrs package, store adapters or forwarders: lrs mounts it, and
// cmd/lrs gives it the store's tenant lookup as a function.
package signin
