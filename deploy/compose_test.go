package deploy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// MustLoadCompose loads compose.yaml as docker compose would, without the
// process environment.
func MustLoadCompose(tb testing.TB) *types.Project {
	tb.Helper()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithWorkingDirectory("."), cli.WithEnv([]string{"LRS_VERSION=test"}))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		tb.Fatalf("compose.yaml: %v", err)
	}
	return p
}

func TestCompose(t *testing.T) {
	p := MustLoadCompose(t)
	known := KnownEnv(t)

	t.Run("KnownEnv", func(t *testing.T) {
		for name, s := range p.Services {
			for k := range s.Environment {
				if strings.HasPrefix(k, "LRS_") && !known[k] {
					t.Errorf("service %s sets %s, which the LRS does not read", name, k)
				}
			}
		}
	})

	lrs, err := p.GetService("lrs")
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if v := lrs.Environment[k]; v != nil {
			return *v
		}
		return ""
	}

	t.Run("Topology", func(t *testing.T) {
		if lrs.Deploy == nil || lrs.Deploy.Replicas == nil || *lrs.Deploy.Replicas != 2 {
			t.Errorf("lrs: want deploy.replicas 2")
		}
		for k, want := range map[string]string{
			"LRS_STORE":         "mongo",
			"LRS_KAFKA_BROKERS": "kafka:9092",
		} {
			if got := env(k); got != want {
				t.Errorf("lrs: %s = %q, want %q", k, got, want)
			}
		}
		if uri := env("LRS_MONGO_URI"); !strings.Contains(uri, "replicaSet=rs0") ||
			!strings.Contains(uri, "mongo1") || !strings.Contains(uri, "mongo2") || !strings.Contains(uri, "mongo3") {
			t.Errorf("lrs: LRS_MONGO_URI = %q, want the three members of rs0", uri)
		}
		for _, name := range []string{"mongo1", "mongo2", "mongo3", "mongo-init", "kafka", "kafka-init"} {
			if _, err := p.GetService(name); err != nil {
				t.Error(err)
			}
		}
		for _, dep := range []string{"mongo-init", "kafka-init"} {
			if d, ok := lrs.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
				t.Errorf("lrs: want depends_on %s: service_completed_successfully", dep)
			}
		}
	})

	t.Run("Secrets", func(t *testing.T) {
		// Every *_FILE names a secret mounted into the service.
		var mounted []string
		for _, s := range lrs.Secrets {
			target := s.Target
			if target == "" {
				target = s.Source
			}
			if !strings.HasPrefix(target, "/") {
				target = "/run/secrets/" + target
			}
			mounted = append(mounted, target)
		}
		for k, v := range lrs.Environment {
			if strings.HasSuffix(k, "_FILE") && (v == nil || !slices.Contains(mounted, *v)) {
				t.Errorf("lrs: %s names no mounted secret (mounted: %v)", k, mounted)
			}
		}
		if env("LRS_ADMIN_TOKEN") != "" {
			t.Error("lrs: LRS_ADMIN_TOKEN in plain environment; use LRS_ADMIN_TOKEN_FILE and a secret")
		}
	})

	t.Run("Health", func(t *testing.T) {
		// Long-running services have a health check; init jobs run once.
		for name, s := range p.Services {
			if strings.HasSuffix(name, "-init") {
				continue
			}
			if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
				t.Errorf("service %s: no healthcheck", name)
			}
		}
		for _, v := range []string{"mongo1", "mongo2", "mongo3", "kafka"} {
			if _, ok := p.Volumes[v]; !ok {
				t.Errorf("no named volume %s", v)
			}
		}
	})
}
