package lrs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/digione/lrs/statements"
)

// RetentionJob erases, for each tenant with a retention, the statements
// stored longer ago than it allows (statements.Eraser.EraseBefore), a
// batch per short write with a pause between batches, so that writers do
// not wait for it, and the tenant's audit entries as old. Of several LRS processes on one store, the one that
// holds the lease "retention" runs it.
type RetentionJob struct {
	Store statements.Store
	// Log receives each run's outcome; the zero value logs nothing.
	Log zerolog.Logger
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Interval is the time between runs; default one hour.
	Interval time.Duration
	// Pause is the time between two batches; default 20 ms.
	Pause time.Duration
	// Holder names this process in the lease; required by Run.
	Holder string

	mu     sync.Mutex
	erased map[string]int64 // statements erased, by tenant
	audit  int64            // audit entries erased
	// attachments deleted with the last statement that had them
	attachments int64
	runs        int64
	failures    int64
	last        time.Time // end of the last complete run
}

func (j *RetentionJob) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *RetentionJob) interval() time.Duration {
	if j.Interval > 0 {
		return j.Interval
	}
	return time.Hour
}

// Run runs the job at once and then every Interval until ctx ends.
func (j *RetentionJob) Run(ctx context.Context) {
	t := time.NewTicker(j.interval())
	defer t.Stop()
	for {
		ok, err := j.Store.AcquireLease(ctx, "retention", j.Holder, j.interval())
		switch {
		case err != nil && ctx.Err() == nil:
			j.Log.Warn().Err(err).Msg("retention: cannot take the lease")
		case ok:
			if _, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
				j.Log.Error().Err(err).Msg("retention: the run failed; the next one goes on")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce erases what every tenant's retention no longer allows, and
// returns how many statements it erased.
func (j *RetentionJob) RunOnce(ctx context.Context) (int, error) {
	rs, err := j.Store.Retentions(ctx)
	if err != nil {
		j.fail()
		return 0, err
	}
	pause := j.Pause
	if pause <= 0 {
		pause = 20 * time.Millisecond
	}
	total := 0
	for _, r := range rs {
		before := j.now().Add(-time.Duration(r.Days) * 24 * time.Hour)
		var atts []string
		for {
			n, hashes, err := j.Store.EraseBefore(ctx, r.Tenant, before, statements.ErasureBatch)
			atts = append(atts, hashes...)
			j.count(r.Tenant, n)
			total += n
			if err != nil {
				j.fail()
				return total, err
			}
			if n < statements.ErasureBatch {
				break
			}
			select {
			case <-ctx.Done():
				return total, ctx.Err()
			case <-time.After(pause):
			}
		}
		n, err := j.Store.EraseAuditBefore(ctx, r.Tenant, before)
		if err != nil {
			j.fail()
			return total, err
		}
		a := 0
		if len(atts) > 0 {
			if a, err = j.Store.DeleteUnusedAttachments(ctx, r.Tenant, atts); err != nil {
				j.fail()
				return total, err
			}
		}
		j.mu.Lock()
		j.audit += int64(n)
		j.attachments += int64(a)
		j.mu.Unlock()
	}
	j.mu.Lock()
	j.runs++
	j.last = j.now()
	j.mu.Unlock()
	if total > 0 {
		j.Log.Info().Int("statements", total).Msg("retention: erased the statements older than their tenants keep")
	}
	return total, nil
}

func (j *RetentionJob) count(tenant string, n int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.erased == nil {
		j.erased = map[string]int64{}
	}
	j.erased[tenant] += int64(n)
}

func (j *RetentionJob) fail() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failures++
}

// WriteMetrics writes the job's metrics in the Prometheus text format:
// lrs_retention_erased_statements_total by tenant, lrs_retention_runs_total,
// lrs_retention_erased_audit_entries_total, lrs_retention_failures_total and
// lrs_retention_last_run_timestamp_seconds.
func (j *RetentionJob) WriteMetrics(w io.Writer) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	fmt.Fprintf(w, "# HELP lrs_retention_erased_statements_total Statements erased because their tenant's retention passed.\n")
	fmt.Fprintf(w, "# TYPE lrs_retention_erased_statements_total counter\n")
	tenants := make([]string, 0, len(j.erased))
	for t := range j.erased {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		fmt.Fprintf(w, "lrs_retention_erased_statements_total{tenant=%q} %d\n", t, j.erased[t])
	}
	last := 0.0
	if !j.last.IsZero() {
		last = float64(j.last.UnixMilli()) / 1000
	}
	fmt.Fprintf(w, "# HELP lrs_retention_erased_attachments_total Attachments deleted with the last statement that had them.\n"+
		"# TYPE lrs_retention_erased_attachments_total counter\nlrs_retention_erased_attachments_total %d\n", j.attachments)
	fmt.Fprintf(w, "# HELP lrs_retention_erased_audit_entries_total Audit entries erased because their tenant's retention passed.\n"+
		"# TYPE lrs_retention_erased_audit_entries_total counter\nlrs_retention_erased_audit_entries_total %d\n", j.audit)
	_, err := fmt.Fprintf(w, "# HELP lrs_retention_runs_total Complete runs of the retention job.\n# TYPE lrs_retention_runs_total counter\nlrs_retention_runs_total %d\n"+
		"# HELP lrs_retention_failures_total Runs of the retention job that failed.\n# TYPE lrs_retention_failures_total counter\nlrs_retention_failures_total %d\n"+
		"# HELP lrs_retention_last_run_timestamp_seconds When the last complete run ended.\n# TYPE lrs_retention_last_run_timestamp_seconds gauge\nlrs_retention_last_run_timestamp_seconds %g\n",
		j.runs, j.failures, last)
	return err
}

// RetentionJSON is a tenant's retention in the admin API:
// GET and PUT /admin/tenants/{tenant}/retention.
type RetentionJSON struct {
	// StatementsDays is how many days the tenant keeps a statement after
	// it was stored; 0 = for ever.
	StatementsDays int `json:"statementsDays"`
}

// SetRetention sets the retention of tenant (ENotFound when there is
// none) and keeps an audit entry.
func (a *Admin) SetRetention(ctx context.Context, actor, tenant string, days int) error {
	if days < 0 {
		return statements.Errorf(statements.EInvalid, "statementsDays: must be 0 (for ever) or more, not %d", days)
	}
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return err
	}
	if err := a.Store.SetRetention(ctx, tenant, days); err != nil {
		return err
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "tenant.retention", Tenant: tenant, Detail: fmt.Sprintf("statementsDays=%d", days)})
	return nil
}

// Retention returns the retention of tenant (ENotFound when there is
// none).
func (a *Admin) Retention(ctx context.Context, tenant string) (RetentionJSON, error) {
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return RetentionJSON{}, err
	}
	rs, err := a.Store.Retentions(ctx)
	if err != nil {
		return RetentionJSON{}, err
	}
	for _, r := range rs {
		if r.Tenant == tenant {
			return RetentionJSON{StatementsDays: r.Days}, nil
		}
	}
	return RetentionJSON{}, nil
}

// handleAdminGetRetention serves GET /admin/tenants/:tenant/retention.
func (s *Server) handleAdminGetRetention(c *gin.Context) {
	r, err := s.adminOps().Retention(c.Request.Context(), c.Param("tenant"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// handleAdminPutRetention serves PUT /admin/tenants/:tenant/retention
// {"statementsDays": N}: the background job erases the tenant's
// statements stored more than N days ago (0: none).
func (s *Server) handleAdminPutRetention(c *gin.Context) {
	var body struct {
		StatementsDays *int `json:"statementsDays"`
	}
	if err := readAdminBody(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	if body.StatementsDays == nil {
		s.fail(c, statements.Errorf(statements.EInvalid, "statementsDays: required (0 keeps the statements for ever)"))
		return
	}
	if err := s.adminOps().SetRetention(c.Request.Context(), adminActor, c.Param("tenant"), *body.StatementsDays); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, RetentionJSON{StatementsDays: *body.StatementsDays})
}
