package lrs

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// ErasureJSON is the status resource of an erasure in the admin API
// (GET /admin/tenants/{tenant}/erasures/{id}): the store's receipt, which
// names the learner by a keyed hash only.
type ErasureJSON = statements.ErasureReceipt

// StartErasure checks an erasure of the learner agentJSON (an xAPI Agent
// object, LearnerAgent) from tenant (ENotFound when there is none),
// keeps an audit entry that names the erasure, not the learner, and
// returns the erasure to run (Store.EraseAgent). actor is who asks: the
// admin API or "cli".
func (a *Admin) StartErasure(ctx context.Context, actor, tenant string, agentJSON []byte) (statements.Erasure, error) {
	_, key, err := LearnerAgent(agentJSON)
	if err != nil {
		return statements.Erasure{}, err
	}
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return statements.Erasure{}, err
	}
	secret, err := a.Store.ErasureKey(ctx, tenant)
	if err != nil {
		return statements.Erasure{}, err
	}
	e, err := statements.NewErasure(secret, tenant, key, actor, a.now())
	if err != nil {
		return statements.Erasure{}, err
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "learner.erase", Tenant: tenant, Detail: "erasure=" + e.ID})
	return e, nil
}

// EraseLearner erases the learner agentJSON from tenant, the right to
// erasure, and returns the receipt when it is done (StartErasure, then
// Store.EraseAgent).
func (a *Admin) EraseLearner(ctx context.Context, actor, tenant string, agentJSON []byte) (*statements.ErasureReceipt, error) {
	e, err := a.StartErasure(ctx, actor, tenant, agentJSON)
	if err != nil {
		return nil, err
	}
	rc, err := a.Store.EraseAgent(ctx, tenant, e)
	if err != nil {
		return nil, err
	}
	a.Log.Info().Str("tenant", tenant).Str("erasure", rc.ID).Int("deleted", rc.StatementsDeleted).
		Int("pseudonymised", rc.StatementsPseudonymised).Int("documents", rc.Documents).
		Int("attachments", rc.Attachments).Msg("learner erased")
	return rc, nil
}

// erasureRuns are the erasures this process runs in the background.
type erasureRuns struct {
	mu   sync.Mutex
	runs map[string]*statements.ErasureReceipt // tenant/id -> the receipt as it started
}

// start notes the run of e unless one runs; false when one does.
func (r *erasureRuns) start(tenant string, e statements.Erasure) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := tenant + "/" + e.ID
	if _, ok := r.runs[k]; ok {
		return false
	}
	if r.runs == nil {
		r.runs = map[string]*statements.ErasureReceipt{}
	}
	r.runs[k] = &statements.ErasureReceipt{ID: e.ID, AgentHash: e.AgentHash, Status: statements.ErasureRunning,
		RequestedBy: e.RequestedBy, Requested: e.Requested}
	return true
}

func (r *erasureRuns) done(tenant, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.runs, tenant+"/"+id)
}

// running returns the receipt of a run in progress, or nil.
func (r *erasureRuns) running(tenant, id string) *statements.ErasureReceipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rc, ok := r.runs[tenant+"/"+id]; ok {
		c := *rc
		return &c
	}
	return nil
}

// erasureRequest is the body of POST /admin/tenants/{tenant}/erasures.
type erasureRequest struct {
	Agent json.RawMessage `json:"agent"`
}

// handleAdminCreateErasure serves POST /admin/tenants/:tenant/erasures
// {"agent": {...}}: it starts erasing the learner in the background and
// answers 202 with the status resource (Location). The same learner
// again gives the same resource: the run in progress, or a new run that
// erases what was stored since.
func (s *Server) handleAdminCreateErasure(c *gin.Context) {
	var req erasureRequest
	if err := readAdminBody(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if len(req.Agent) == 0 || string(req.Agent) == "null" {
		s.fail(c, statements.Errorf(statements.EInvalid, "agent: one xAPI Agent object is required"))
		return
	}
	tenant := c.Param("tenant")
	ops := s.adminOps()
	e, err := ops.StartErasure(c.Request.Context(), adminActor, tenant, req.Agent)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/admin/tenants/"+tenant+"/erasures/"+e.ID)
	if s.erasures.start(tenant, e) {
		// The run outlives the request; it ends with the store.
		ctx := context.WithoutCancel(c.Request.Context())
		go func() {
			defer s.erasures.done(tenant, e.ID)
			rc, err := ops.Store.EraseAgent(ctx, tenant, e)
			if err != nil {
				s.log.Error().Err(err).Str("tenant", tenant).Str("erasure", e.ID).Msg("erasure failed; post it again to resume")
				return
			}
			s.log.Info().Str("tenant", tenant).Str("erasure", rc.ID).Int("deleted", rc.StatementsDeleted).
				Int("pseudonymised", rc.StatementsPseudonymised).Int("documents", rc.Documents).
				Int("attachments", rc.Attachments).Msg("learner erased")
		}()
	}
	c.JSON(http.StatusAccepted, s.erasureStatus(c.Request.Context(), tenant, e.ID))
}

// erasureStatus returns the receipt of the erasure id: the store's, with
// the status "running" while this process runs it.
func (s *Server) erasureStatus(ctx context.Context, tenant, id string) *ErasureJSON {
	run := s.erasures.running(tenant, id)
	rc, err := s.store.ErasureReceipt(ctx, tenant, id)
	switch {
	case err != nil && run != nil:
		return run
	case err != nil:
		return nil
	case run != nil:
		rc.Status, rc.Completed = statements.ErasureRunning, run.Completed
	}
	return rc
}

// handleAdminGetErasure serves GET /admin/tenants/:tenant/erasures/:id:
// the status resource of an erasure (ErasureJSON).
func (s *Server) handleAdminGetErasure(c *gin.Context) {
	tenant, id := c.Param("tenant"), c.Param("id")
	if rc := s.erasureStatus(c.Request.Context(), tenant, id); rc != nil {
		c.JSON(http.StatusOK, rc)
		return
	}
	_, err := s.store.ErasureReceipt(c.Request.Context(), tenant, id)
	if err == nil {
		err = statements.Errorf(statements.ENotFound, "no erasure %s", id)
	}
	s.fail(c, err)
}
