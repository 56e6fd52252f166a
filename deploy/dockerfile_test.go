package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile checks what no Docker engine here can: that the image is
// built by build.sh, runs as a non-root user with a health check, and sets
// only LRS_* variables the LRS reads.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"deploy/build.sh /out/lrs",
		"USER 10001:10001",
		"HEALTHCHECK ",
		"http://127.0.0.1:8080/healthz",
		"EXPOSE 8080",
		`VOLUME ["/var/lib/lrs"]`,
		"ENV LRS_DATA_DIR=/var/lib/lrs",
		`ENTRYPOINT ["/usr/local/bin/lrs"]`,
		`CMD ["serve"]`,
		"ca-certificates",
		"org.opencontainers.image.source=",
		"org.opencontainers.image.version=",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile: no %q", want)
		}
	}
	known := KnownEnv(t)
	for _, m := range regexp.MustCompile(`\bLRS_[A-Z0-9_]+`).FindAllString(df, -1) {
		if !known[m] {
			t.Errorf("Dockerfile names %s, which the LRS does not read", m)
		}
	}
	sh, err := os.ReadFile("build.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sh), "CGO_ENABLED=0 go build") {
		t.Error("build.sh: want a static build (CGO_ENABLED=0 go build)")
	}
}
