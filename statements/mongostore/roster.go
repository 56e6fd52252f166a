package mongostore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

var _ statements.RosterStore = (*Store)(nil)

// rosterDoc is the pointer to a tenant's current roster: one document per
// replace, _id = tenant/sequence, the latest is current. Inserting the
// next sequence decides between racing replaces.
type rosterDoc struct {
	ID          string `bson:"_id"`
	Tenant      string `bson:"tn"`
	Seq         int64  `bson:"seq"`
	Gen         int64  `bson:"g"`      // the generation of the roster's records
	Synced      int64  `bson:"synced"` // unix ms
	Orgs        int    `bson:"orgs"`
	Users       int    `bson:"users"`
	Classes     int    `bson:"classes"`
	Enrollments int    `bson:"enrollments"`
}

// rosterRecord is one org, user, class or enrollment of a generation, the
// record as JSON in D and the fields the queries select by.
type rosterRecord struct {
	ID     string   `bson:"_id"` // tenant/generation/sourcedId
	Tenant string   `bson:"tn"`
	Gen    int64    `bson:"g"`
	SID    string   `bson:"id"`
	D      []byte   `bson:"d"`
	IDs    []string `bson:"ids,omitempty"`    // users: identities
	RO     []string `bson:"ro,omitempty"`     // users: org + "\n" + role, and org + "\n" (any role)
	School string   `bson:"school,omitempty"` // classes
	Class  string   `bson:"class,omitempty"`  // enrollments
	User   string   `bson:"user,omitempty"`   // enrollments
	Role   string   `bson:"role,omitempty"`   // enrollments
}

func roleKey(org, role string) string { return org + "\n" + role }

// rosterIndexes are the indexes of the roster collections (see indexes).
func (s *Store) rosterIndexes() []index {
	return []index{
		// The current roster of a tenant; old pointers to delete.
		{coll: s.rosters, name: "tn_seq", keys: bson.D{{Key: "tn", Value: 1}, {Key: "seq", Value: -1}}},
		// RosterOrg, RosterUser, RosterClass, the $in of the member and
		// class lists, and deleting old generations.
		{coll: s.rosterOrgs, name: "tn_g_id", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1}, {Key: "id", Value: 1}}},
		{coll: s.rosterUsers, name: "tn_g_id", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1}, {Key: "id", Value: 1}}},
		{coll: s.rosterClasses, name: "tn_g_id", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1}, {Key: "id", Value: 1}}},
		// RosterPerson (multikey).
		{coll: s.rosterUsers, name: "tn_g_ids", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1}, {Key: "ids", Value: 1}}},
		// OrgMembers (multikey).
		{coll: s.rosterUsers, name: "tn_g_ro_id", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1}, {Key: "ro", Value: 1}, {Key: "id", Value: 1}}},
		// SchoolClasses.
		{coll: s.rosterClasses, name: "tn_g_school_id", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1}, {Key: "school", Value: 1}, {Key: "id", Value: 1}}},
		// ClassMembers and ClassesOf; deleting old generations.
		{coll: s.rosterEnrollments, name: "tn_g_class_role_user", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1},
			{Key: "class", Value: 1}, {Key: "role", Value: 1}, {Key: "user", Value: 1}}},
		{coll: s.rosterEnrollments, name: "tn_g_user_role_class", keys: bson.D{{Key: "tn", Value: 1}, {Key: "g", Value: 1},
			{Key: "user", Value: 1}, {Key: "role", Value: 1}, {Key: "class", Value: 1}}},
		// The tenants owning identity values: _id = value; {tn} to release.
		{coll: s.tenantIDs, name: "tn", keys: bson.D{{Key: "tn", Value: 1}}},
	}
}

// currentRoster returns the pointer to the tenant's roster, or nil.
func (s *Store) currentRoster(ctx context.Context, tenant string) (*rosterDoc, error) {
	var d rosterDoc
	err := s.rosters.FindOne(ctx, bson.D{{Key: "tn", Value: tenant}},
		options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}})).Decode(&d)
	if isNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "cannot read the roster")
	}
	return &d, nil
}

// ReplaceRoster writes r as a new generation of the tenant's records, then
// makes it current by inserting the next pointer, then deletes the
// generations older than the one it replaced (which readers that have just
// read the old pointer may still be reading). See statements.RosterStore.
func (s *Store) ReplaceRoster(ctx context.Context, tenant string, r *statements.Roster) error {
	if err := r.Check(); err != nil {
		return err
	}
	cur, err := s.currentRoster(ctx, tenant)
	if err != nil {
		return err
	}
	var seq, prevGen int64
	if cur != nil {
		seq, prevGen = cur.Seq, cur.Gen
	}
	// A generation is later than every one a replace that has read the
	// same or a later pointer could delete.
	gen := max(s.now().UnixNano(), prevGen+1)
	rec := func(sid string, v any) rosterRecord {
		b, _ := json.Marshal(v)
		return rosterRecord{ID: fmt.Sprintf("%s/%d/%s", tenant, gen, sid), Tenant: tenant, Gen: gen, SID: sid, D: b}
	}
	var orgs, users, classes, enrollments []any
	for _, o := range r.Orgs {
		orgs = append(orgs, rec(o.SourcedID, o))
	}
	for _, u := range r.Users {
		d := rec(u.SourcedID, u)
		d.IDs = slices.Compact(slices.Sorted(slices.Values(u.Identities)))
		for _, ro := range u.Roles {
			d.RO = append(d.RO, roleKey(ro.Org, ro.Role), roleKey(ro.Org, ""))
		}
		slices.Sort(d.RO)
		d.RO = slices.Compact(d.RO)
		users = append(users, d)
	}
	for _, c := range r.Classes {
		d := rec(c.SourcedID, c)
		d.School = c.School
		classes = append(classes, d)
	}
	for _, e := range r.Enrollments {
		d := rec(e.SourcedID, e)
		d.Class, d.User, d.Role = e.Class, e.User, e.Role
		enrollments = append(enrollments, d)
	}
	colls := []*mongo.Collection{s.rosterOrgs, s.rosterUsers, s.rosterClasses, s.rosterEnrollments}
	dropGen := func(g int64, op string) {
		for _, c := range colls {
			c.DeleteMany(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "g", Value: bson.D{{Key: op, Value: g}}}})
		}
	}
	for i, docs := range [][]any{orgs, users, classes, enrollments} {
		if len(docs) == 0 {
			continue
		}
		if _, err := colls[i].InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
			dropGen(gen, "$eq")
			return mapErr(err, "cannot replace the roster")
		}
	}
	next := rosterDoc{ID: fmt.Sprintf("%s/%020d", tenant, seq+1), Tenant: tenant, Seq: seq + 1, Gen: gen,
		Synced: r.Synced.UnixMilli(), Orgs: len(r.Orgs), Users: len(r.Users), Classes: len(r.Classes), Enrollments: len(r.Enrollments)}
	if _, err := s.rosters.InsertOne(ctx, next); err != nil {
		dropGen(gen, "$eq")
		if mongo.IsDuplicateKeyError(err) {
			return statements.Errorf(statements.EConflict, "another replace of the roster of %s came first", tenant)
		}
		return mapErr(err, "cannot replace the roster")
	}
	if cur != nil {
		// The replaced generation stays for the readers in flight; older
		// ones, and records of failed replaces before it, go.
		dropGen(prevGen, "$lt")
		s.rosters.DeleteMany(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "seq", Value: bson.D{{Key: "$lt", Value: seq}}}})
	}
	return nil
}

// RosterStatus returns the counts of the tenant's roster; see
// statements.RosterStore.
func (s *Store) RosterStatus(ctx context.Context, tenant string) (statements.RosterStatus, error) {
	cur, err := s.currentRoster(ctx, tenant)
	if err != nil || cur == nil {
		return statements.RosterStatus{}, err
	}
	return statements.RosterStatus{Synced: time.UnixMilli(cur.Synced).UTC(), Orgs: cur.Orgs, Users: cur.Users,
		Classes: cur.Classes, Enrollments: cur.Enrollments}, nil
}

// findRoster decodes the records of the tenant's current generation that
// filter selects from c, sorted by sourcedId; at most limit (0 = any).
func findRoster[T any](ctx context.Context, s *Store, c *mongo.Collection, tenant string, filter bson.D, limit int64) ([]T, error) {
	return ofOneGeneration(ctx, s, tenant, func(gen int64) ([]T, error) {
		return findGen[T](ctx, c, tenant, gen, filter, limit)
	})
}

// ofOneGeneration runs read on the tenant's current generation and
// returns its records. A replace keeps the generation it replaced for the
// readers in flight, but not older ones: a read that two replaces
// overtook may have lost records, so a read during which the current
// generation changed is done again on the new one (a few times at most,
// then the last read stands).
func ofOneGeneration[T any](ctx context.Context, s *Store, tenant string, read func(gen int64) ([]T, error)) ([]T, error) {
	cur, err := s.currentRoster(ctx, tenant)
	for attempt := 0; ; attempt++ {
		if err != nil || cur == nil {
			return []T{}, err
		}
		if s.afterRosterGen != nil {
			s.afterRosterGen()
		}
		out, err := read(cur.Gen)
		if err != nil {
			return nil, err
		}
		now, err := s.currentRoster(ctx, tenant)
		if err != nil {
			return nil, err
		}
		if now == nil || now.Gen == cur.Gen || attempt == 4 {
			return out, nil
		}
		cur = now
	}
}

// findGen decodes the records of generation gen that filter selects from
// c, sorted by sourcedId; at most limit (0 = any).
func findGen[T any](ctx context.Context, c *mongo.Collection, tenant string, gen int64, filter bson.D, limit int64) ([]T, error) {
	out := []T{}
	f := append(bson.D{{Key: "tn", Value: tenant}, {Key: "g", Value: gen}}, filter...)
	o := options.Find().SetSort(bson.D{{Key: "id", Value: 1}}).SetProjection(bson.D{{Key: "d", Value: 1}})
	if limit > 0 {
		o.SetLimit(limit)
	}
	cs, err := c.Find(ctx, f, o)
	if err != nil {
		return nil, mapErr(err, "cannot read the roster")
	}
	var docs []rosterRecord
	if err := cs.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read the roster")
	}
	for _, d := range docs {
		var v T
		if err := json.Unmarshal(d.D, &v); err != nil {
			return nil, statements.Internal(err, "cannot read the roster")
		}
		out = append(out, v)
	}
	return out, nil
}

// enrolled returns the values of field (class or user) of the enrollments
// of the current generation that filter selects, each once; the generation
// is read once for both steps of a list, so a list is of one roster.
func (s *Store) enrolled(ctx context.Context, tenant string, gen int64, filter bson.D, field string) ([]string, error) {
	f := append(bson.D{{Key: "tn", Value: tenant}, {Key: "g", Value: gen}}, filter...)
	cs, err := s.rosterEnrollments.Find(ctx, f, options.Find().SetProjection(bson.D{{Key: field, Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "cannot read the roster")
	}
	var docs []rosterRecord
	if err := cs.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read the roster")
	}
	var ids []string
	for _, d := range docs {
		if field == "class" {
			ids = append(ids, d.Class)
		} else {
			ids = append(ids, d.User)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// RosterUser returns one user; see statements.RosterStore.
func (s *Store) RosterUser(ctx context.Context, tenant, sourcedID string) (*statements.RosterUser, error) {
	us, err := findRoster[statements.RosterUser](ctx, s, s.rosterUsers, tenant, bson.D{{Key: "id", Value: sourcedID}}, 1)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, statements.Errorf(statements.ENotFound, "no roster user %s", sourcedID)
	}
	return &us[0], nil
}

// RosterPerson returns the user with an identity; see
// statements.RosterStore.
func (s *Store) RosterPerson(ctx context.Context, tenant, identity string) (*statements.RosterUser, error) {
	us, err := findRoster[statements.RosterUser](ctx, s, s.rosterUsers, tenant, bson.D{{Key: "ids", Value: identity}}, 2)
	if err != nil {
		return nil, err
	}
	switch len(us) {
	case 0:
		return nil, statements.Errorf(statements.ENotFound, "no roster user has this identity")
	case 1:
		return &us[0], nil
	}
	return nil, statements.Errorf(statements.EConflict, "roster users %s and %s have the same identity", us[0].SourcedID, us[1].SourcedID)
}

// RosterOrg returns one org; see statements.RosterStore.
func (s *Store) RosterOrg(ctx context.Context, tenant, sourcedID string) (*statements.RosterOrg, error) {
	os, err := findRoster[statements.RosterOrg](ctx, s, s.rosterOrgs, tenant, bson.D{{Key: "id", Value: sourcedID}}, 1)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, statements.Errorf(statements.ENotFound, "no roster org %s", sourcedID)
	}
	return &os[0], nil
}

// RosterClass returns one class; see statements.RosterStore.
func (s *Store) RosterClass(ctx context.Context, tenant, sourcedID string) (*statements.RosterClass, error) {
	cs, err := findRoster[statements.RosterClass](ctx, s, s.rosterClasses, tenant, bson.D{{Key: "id", Value: sourcedID}}, 1)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, statements.Errorf(statements.ENotFound, "no roster class %s", sourcedID)
	}
	return &cs[0], nil
}

// listVia lists the records of c whose sourcedIds are the values of field
// of the enrollments that filter selects, all read from one generation.
func listVia[T any](ctx context.Context, s *Store, c *mongo.Collection, tenant string, filter bson.D, field string) ([]T, error) {
	return ofOneGeneration(ctx, s, tenant, func(gen int64) ([]T, error) {
		ids, err := s.enrolled(ctx, tenant, gen, filter, field)
		if err != nil || len(ids) == 0 {
			return []T{}, err
		}
		return findGen[T](ctx, c, tenant, gen, bson.D{{Key: "id", Value: bson.D{{Key: "$in", Value: ids}}}}, 0)
	})
}

func withRole(f bson.D, role string) bson.D {
	if role != "" {
		f = append(f, bson.E{Key: "role", Value: role})
	}
	return f
}

// ClassesOf returns a user's classes; see statements.RosterStore.
func (s *Store) ClassesOf(ctx context.Context, tenant, user, role string) ([]statements.RosterClass, error) {
	return listVia[statements.RosterClass](ctx, s, s.rosterClasses, tenant, withRole(bson.D{{Key: "user", Value: user}}, role), "class")
}

// ClassMembers returns a class's users; see statements.RosterStore.
func (s *Store) ClassMembers(ctx context.Context, tenant, class, role string) ([]statements.RosterUser, error) {
	return listVia[statements.RosterUser](ctx, s, s.rosterUsers, tenant, withRole(bson.D{{Key: "class", Value: class}}, role), "user")
}

// SchoolClasses returns a school's classes; see statements.RosterStore.
func (s *Store) SchoolClasses(ctx context.Context, tenant, org string) ([]statements.RosterClass, error) {
	return findRoster[statements.RosterClass](ctx, s, s.rosterClasses, tenant, bson.D{{Key: "school", Value: org}}, 0)
}

// OrgMembers returns the users with a role in an org; see
// statements.RosterStore.
func (s *Store) OrgMembers(ctx context.Context, tenant, org, role string) ([]statements.RosterUser, error) {
	return findRoster[statements.RosterUser](ctx, s, s.rosterUsers, tenant, bson.D{{Key: "ro", Value: roleKey(org, role)}}, 0)
}
