package testbed

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

//go:embed pom.xml
var pom []byte

//go:embed settings.xml
var settings []byte

// DefaultVersion is the newest 4.0.x LTS whose whole dependency tree
// Maven Central serves here (4.0.8's jetcd-core-shaded is not served).
const DefaultVersion = "4.0.7"

var versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// ClassPath returns the class path of pulsar-broker at version, resolving
// it with Maven on first use (the jars land in Maven's local repository)
// and caching the result under cacheDir.
func ClassPath(ctx context.Context, version, cacheDir string) (string, error) {
	if !versionPattern.MatchString(version) {
		return "", fmt.Errorf("pulsar version %q: want MAJOR.MINOR.PATCH, e.g. %s", version, DefaultVersion)
	}
	out := filepath.Join(cacheDir, "classpath-"+version+".txt")
	if cp, err := readClassPath(out); err == nil {
		return cp, nil
	}
	if err := resolve(ctx, version, cacheDir, out); err != nil {
		return "", err
	}
	return readClassPath(out)
}

// readClassPath reads a cached class path and checks that its jars are
// still in Maven's repository (a cleaned ~/.m2 invalidates it).
func readClassPath(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	cp := strings.TrimSpace(string(b))
	jars := strings.Split(cp, string(os.PathListSeparator))
	if cp == "" || len(jars) < 10 {
		return "", fmt.Errorf("class path in %s lists %d jars", file, len(jars))
	}
	for _, j := range jars {
		if _, err := os.Stat(j); err != nil {
			return "", fmt.Errorf("class path in %s: %w", file, err)
		}
	}
	return cp, nil
}

func resolve(ctx context.Context, version, cacheDir, out string) error {
	if _, err := exec.LookPath("mvn"); err != nil {
		return errors.New("resolving Pulsar's jars needs Maven (mvn) on PATH")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return fmt.Errorf("test bed cache: %w", err)
	}
	pomFile := filepath.Join(cacheDir, "pom.xml")
	if err := os.WriteFile(pomFile, pom, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", pomFile, err)
	}
	settingsFile := filepath.Join(cacheDir, "settings.xml")
	if err := os.WriteFile(settingsFile, settings, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", settingsFile, err)
	}
	args := []string{"-B", "-q", "-s", settingsFile, "-f", pomFile, "-Dpulsar.version=" + version}
	if otel := openTelemetryVersion(version); otel != version {
		args = append(args, "-Dpulsar.otel.version="+otel)
	}
	args = append(args, "dependency:build-classpath", "-Dmdep.outputFile="+out)
	cmd := exec.CommandContext(ctx, "mvn", args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("maven could not resolve org.apache.pulsar:pulsar-broker:%s: %w\n%s", version, err, tail(log.String(), 4000))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// openTelemetryVersion is the pulsar-opentelemetry to run a broker with:
// its own, except on 3.3.x, whose pulsar-opentelemetry Maven Central does
// not serve (404); 3.3.5 starts and passes the contract suite with 4.0.7's.
func openTelemetryVersion(version string) string {
	if strings.HasPrefix(version, "3.3.") {
		return "4.0.7"
	}
	return version
}
