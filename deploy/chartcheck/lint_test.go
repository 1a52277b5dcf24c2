package chartcheck

import (
	"testing"

	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// `helm lint`'s rules (Chart.yaml, values, templates, rendered YAML) find
// nothing worth a warning.
func TestHelmLint(t *testing.T) {
	l := lint.All(chartDir, installValues(), "pulsar", false)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Error(m)
		} else {
			t.Log(m)
		}
	}
}
