package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// helmVersion is the Helm the chart is checked with, built from source
// through the Go module proxy (no binary download).
const helmVersion = "v3.22.0"

const chart = "helm/lrs"

// kubeVersion is the Kubernetes the chart is rendered for: the release of
// the k8s.io/api types it is decoded into.
const kubeVersion = "1.34.0"

// Helm returns the path of a helm binary: LRS_TEST_HELM when set, else
// one built once with go install into the user cache directory. A cold
// build takes minutes on two cores; when the test's deadline leaves no
// time for it, the test is skipped and says why (the build cache keeps
// what was compiled, so the next run goes further).
func Helm(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LRS_TEST_HELM"); p != "" {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no cache directory for helm: %v", err)
	}
	dir := filepath.Join(cache, "digione-lrs", "helm-"+helmVersion)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(context.Background(), d.Add(-30*time.Second))
	}
	defer cancel()
	// Build into a directory of its own and rename it into place, so that
	// two test processes building at once never see half a binary.
	err = os.MkdirAll(filepath.Dir(dir), 0o755)
	var tmp string
	if err == nil {
		tmp, err = os.MkdirTemp(filepath.Dir(dir), "build-")
	}
	if err != nil {
		t.Skipf("no cache directory for helm: %v", err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "install", "helm.sh/helm/v3/cmd/helm@"+helmVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			t.Skipf("building helm %s did not finish before the test deadline (%s); run again, or set LRS_TEST_HELM", helmVersion, time.Since(start).Round(time.Second))
		}
		t.Fatalf("go install helm %s: %v\n%s", helmVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, statErr := os.Stat(bin); statErr != nil { // not another test process's build
			t.Fatal(err)
		}
	}
	t.Logf("built helm %s in %s", helmVersion, time.Since(start).Round(time.Second))
	return bin
}

// runHelm runs helm with args and returns its standard output. Helm's
// own directories are kept in the test's temporary directory.
func runHelm(t *testing.T, helm string, args ...string) string {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helm, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// kinds maps each kind the chart renders to its Kubernetes API type; nil
// for a custom resource whose type k8s.io/api does not have.
var kinds = map[string]func() any{
	"apps/v1 Deployment":                      func() any { return new(appsv1.Deployment) },
	"v1 Service":                              func() any { return new(corev1.Service) },
	"v1 ConfigMap":                            func() any { return new(corev1.ConfigMap) },
	"v1 Secret":                               func() any { return new(corev1.Secret) },
	"v1 ServiceAccount":                       func() any { return new(corev1.ServiceAccount) },
	"autoscaling/v2 HorizontalPodAutoscaler":  func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"policy/v1 PodDisruptionBudget":           func() any { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1 NetworkPolicy":      func() any { return new(networkingv1.NetworkPolicy) },
	"monitoring.coreos.com/v1 ServiceMonitor": nil,
}

// decodeStrict decodes each YAML document of a rendering into its API
// type, refusing fields the type does not have; it returns the objects by
// kind.
func decodeStrict(t *testing.T, rendered string) map[string][]any {
	t.Helper()
	objs := map[string][]any{}
	for _, doc := range strings.Split(rendered, "\n---") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if string(j) == "null" {
			continue
		}
		var head struct{ APIVersion, Kind string }
		if err := json.Unmarshal(j, &head); err != nil {
			t.Fatal(err)
		}
		key := head.APIVersion + " " + head.Kind
		newObj, ok := kinds[key]
		if !ok {
			t.Errorf("rendered %s, which this test does not know", key)
			continue
		}
		if newObj == nil {
			objs[head.Kind] = append(objs[head.Kind], j)
			continue
		}
		obj := newObj()
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			t.Errorf("%s: %v\n%s", key, err, doc)
			continue
		}
		objs[head.Kind] = append(objs[head.Kind], obj)
	}
	return objs
}

func TestHelmChart(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the chart is checked by the full run (it builds helm)")
	}
	helm := Helm(t)
	// The least an install needs: a MongoDB. (--set splits on unescaped
	// commas.)
	minimal := []string{"--set", `secrets.mongoURI=mongodb://db1\,db2\,db3/?replicaSet=rs0`}
	all := append(append([]string{}, minimal...), "--set", "serviceMonitor.enabled=true", "--set", "autoscaling.enabled=true",
		"--set", "networkPolicy.enabled=true", "--set", "config.kafkaBrokers=kafka:9092", "--set", "secrets.adminToken=t0ken",
		"--set", "config.kafkaSASLMechanism=SCRAM-SHA-512", "--set", "config.kafkaSASLUser=lrs", "--set", "secrets.kafkaSASLPassword=pw",
		"--set", "config.limitReplicas=4", "--set", "config.kafkaTopicTemplate=xapi.statements.{tenant}", "--set", "config.retentionInterval=15m",
		"--set", "config.otlpEndpoint=http://otel-collector.observability:4318", "--set", "config.extraEnv.OTEL_TRACES_SAMPLER_ARG=0.01")

	t.Run("Lint", func(t *testing.T) {
		runHelm(t, helm, append([]string{"lint", "--strict", chart}, minimal...)...)
		runHelm(t, helm, append([]string{"lint", "--strict", chart}, all...)...)
	})

	known := KnownEnv(t)
	checkEnv := func(t *testing.T, objs map[string][]any) {
		for _, o := range objs["ConfigMap"] {
			for k := range o.(*corev1.ConfigMap).Data {
				// OTEL_* are the OpenTelemetry SDK's own (docs/operations.md, Traces).
				if !known[k] && !strings.HasPrefix(k, "OTEL_") {
					t.Errorf("ConfigMap sets %s, which the LRS does not read", k)
				}
			}
		}
		for _, o := range objs["Secret"] {
			s := o.(*corev1.Secret)
			for k := range s.StringData {
				if !known[k] {
					t.Errorf("Secret sets %s, which the LRS does not read", k)
				}
			}
		}
	}

	t.Run("Default", func(t *testing.T) {
		objs := decodeStrict(t, runHelm(t, helm, append([]string{"template", "lrs", chart, "--kube-version", kubeVersion}, minimal...)...))
		checkEnv(t, objs)
		for kind, want := range map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1, "Secret": 1, "ServiceAccount": 1,
			"PodDisruptionBudget": 1, "HorizontalPodAutoscaler": 0, "NetworkPolicy": 0, "ServiceMonitor": 0} {
			if got := len(objs[kind]); got != want {
				t.Errorf("%d %s, want %d", got, kind, want)
			}
		}
		if len(objs["Deployment"]) != 1 {
			return
		}
		d := objs["Deployment"][0].(*appsv1.Deployment)
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("replicas %v, want 2", d.Spec.Replicas)
		}
		pod := d.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Error("pod: want runAsNonRoot")
		}
		if len(pod.TopologySpreadConstraints) == 0 {
			t.Error("pod: no topologySpreadConstraints")
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || fmt.Sprint(sc.Capabilities.Drop) != "[ALL]" {
			t.Errorf("container securityContext %+v: want read-only root, no privilege escalation, drop ALL", sc)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Error("liveness probe: want GET /healthz")
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Error("readiness probe: want GET /readyz")
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Error("container: want CPU requests and a memory limit")
		}
		var tmp bool
		for _, m := range c.VolumeMounts {
			tmp = tmp || m.MountPath == "/tmp"
		}
		if !tmp {
			t.Error("container: no writable /tmp")
		}
		cm := objs["ConfigMap"][0].(*corev1.ConfigMap)
		if got := cm.Data["LRS_STORE"]; got != "mongo" {
			t.Errorf("LRS_STORE = %q, want mongo", got)
		}
		if _, ok := cm.Data["LRS_MONGO_URI"]; ok {
			t.Error("LRS_MONGO_URI in the ConfigMap: it belongs in the Secret")
		}
	})

	t.Run("Everything", func(t *testing.T) {
		objs := decodeStrict(t, runHelm(t, helm, append([]string{"template", "lrs", chart, "--kube-version", kubeVersion}, all...)...))
		checkEnv(t, objs)
		for kind, want := range map[string]int{"HorizontalPodAutoscaler": 1, "NetworkPolicy": 1, "ServiceMonitor": 1} {
			if got := len(objs[kind]); got != want {
				t.Errorf("%d %s, want %d", got, kind, want)
			}
		}
		for _, d := range objs["Deployment"] {
			if r := d.(*appsv1.Deployment).Spec.Replicas; r != nil {
				t.Errorf("replicas %d with the autoscaler on; want none", *r)
			}
		}
		for _, j := range objs["ServiceMonitor"] {
			var sm struct {
				Spec struct {
					Endpoints []struct{ Port, Path string } `json:"endpoints"`
				} `json:"spec"`
			}
			if err := json.Unmarshal(j.([]byte), &sm); err != nil || len(sm.Spec.Endpoints) != 1 ||
				sm.Spec.Endpoints[0].Port != "internal" || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Errorf("ServiceMonitor: want one endpoint, port internal, /metrics; %s", j)
			}
		}
		for _, o := range objs["ConfigMap"] {
			cm := o.(*corev1.ConfigMap)
			for k, want := range map[string]string{"LRS_REPLICAS": "4", "LRS_KAFKA_TOPIC_TEMPLATE": "xapi.statements.{tenant}", "LRS_RETENTION_INTERVAL": "15m",
				"LRS_OTLP_ENDPOINT": "http://otel-collector.observability:4318", "OTEL_TRACES_SAMPLER_ARG": "0.01"} {
				if got := cm.Data[k]; got != want {
					t.Errorf("ConfigMap: %s = %q, want %q", k, got, want)
				}
			}
		}
		for _, o := range objs["Secret"] {
			if got := o.(*corev1.Secret).StringData["LRS_KAFKA_SASL_PASSWORD"]; got != "pw" {
				t.Errorf("Secret: LRS_KAFKA_SASL_PASSWORD = %q", got)
			}
		}
	})

	t.Run("Refuses", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"NoMongoURI", nil, "needs secrets.mongoURI"},
			{"SQLiteReplicated", []string{"--set", "config.store=sqlite"}, "set replicaCount 1"},
			{"UnknownStore", append([]string{"--set", "config.store=postgres"}, minimal...), "must be mongo or sqlite"},
			{"TopicAndTemplate", append([]string{"--set", "config.kafkaTopic=xapi.all", "--set", "config.kafkaTopicTemplate=xapi.{tenant}"}, minimal...),
				"config.kafkaTopic and config.kafkaTopicTemplate"},
		} {
			cmd := exec.Command(helm, append([]string{"template", "lrs", chart, "--kube-version", kubeVersion}, tc.args...)...)
			home := t.TempDir()
			cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("%s: %v, want a refusal saying %q\n%s", tc.name, err, tc.want, out)
			}
		}
		// One pod on the embedded store renders.
		objs := decodeStrict(t, runHelm(t, helm, "template", "lrs", chart, "--kube-version", kubeVersion,
			"--set", "config.store=sqlite", "--set", "replicaCount=1"))
		if n := len(objs["PodDisruptionBudget"]); n != 0 {
			t.Errorf("%d PodDisruptionBudget for one pod, want none", n)
		}
	})
}
