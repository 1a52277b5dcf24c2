package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/subsync/subsync/replicator"
)

// The dashboard and the alert rules are only as good as the names in
// their queries: a renamed metric or label would leave a panel empty and
// an alert silent without any error. These tests check every metric and
// label name they use against what the daemon registers.

const (
	dashboardFile = "../../docs/dashboards/subsync.json"
	alertsFile    = "../../deploy/prometheus/subsync-alerts.yaml"
)

// metricName matches identifiers that name subsync's (or Pulsar's)
// metrics in PromQL.
var metricName = regexp.MustCompile(`\bpulsar_[a-z0-9_]+\b`)

// registered is what the daemon's registry exports: metric names, each
// with its label names.
type registered map[string]map[string]bool

// registeredNames gathers the daemon's registry, with every vector given
// one child so that each metric family shows up: counters through the
// daemon's own zero-initialisation, gauges and histograms by hand (they
// are not pre-created). Histograms contribute their series' suffixes.
func registeredNames(t *testing.T) registered {
	t.Helper()
	m := replicator.NewMetrics(nil)
	m.InitNamespace("east", "shop/eu", []string{"west"})
	m.InitTopic("east", "shop/eu", "persistent://shop/eu/t")
	m.InitSubscription("east", "shop/eu", "persistent://shop/eu/t", "s", []string{"west"})
	touchVectors(t, m)
	registerBuildInfo(m.Registry, readBuildInfo())
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := registered{}
	for _, f := range families {
		labels := map[string]bool{}
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = true
		}
		names[f.GetName()] = labels
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+suffix] = labels
			}
			names[f.GetName()+"_bucket"] = withLabel(labels, "le")
		}
	}
	return names
}

func withLabel(labels map[string]bool, name string) map[string]bool {
	out := map[string]bool{name: true}
	for l := range labels {
		out[l] = true
	}
	return out
}

var (
	byClause     = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	matcher      = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
	labelValuesQ = regexp.MustCompile(`label_values\([^,]+,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)`)
)

// usedLabels lists the label names a query groups by, matches on or asks
// the values of.
func usedLabels(q string) []string {
	var out []string
	for _, m := range byClause.FindAllStringSubmatch(q, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	for _, re := range []*regexp.Regexp{matcher, labelValuesQ} {
		for _, m := range re.FindAllStringSubmatch(q, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

var variableLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)

// touchVectors creates one child of every gauge and histogram vector in
// Metrics, with as many label values as its description has labels.
func touchVectors(t *testing.T, m *replicator.Metrics) {
	t.Helper()
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch vec := v.Field(i).Interface().(type) {
		case *prometheus.GaugeVec:
			vec.WithLabelValues(labelValues(t, vec)...).Set(1)
		case *prometheus.HistogramVec:
			vec.WithLabelValues(labelValues(t, vec)...).Observe(1)
		}
	}
}

func labelValues(t *testing.T, c prometheus.Collector) []string {
	t.Helper()
	descs := make(chan *prometheus.Desc, 1)
	c.Describe(descs)
	match := variableLabels.FindStringSubmatch((<-descs).String())
	if match == nil {
		t.Fatal("cannot read a metric description's labels")
	}
	n := len(strings.Split(match[1], ","))
	return slices.Repeat([]string{"x"}, n)
}

// dashboardQueries returns every PromQL text of the dashboard: panel
// targets and template variable queries.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	out := map[string]string{}
	for _, p := range d.Panels {
		for i, tg := range p.Targets {
			out[fmt.Sprintf("panel %q target %d", p.Title, i)] = tg.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			out["variable "+v.Name] = v.Query
		}
	}
	return out
}

func alertQueries(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	out := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert] = r.Expr
		}
	}
	return out
}

func TestDashboardAndAlertsUseRegisteredMetrics(t *testing.T) {
	names := registeredNames(t)
	queries := dashboardQueries(t)
	alerts := alertQueries(t)
	if len(queries) < 10 || len(alerts) < 4 {
		t.Fatalf("found %d dashboard and %d alert queries; the files' structure changed?", len(queries), len(alerts))
	}
	for where, q := range alerts {
		queries[where] = q
	}
	for where, q := range queries {
		used := metricName.FindAllString(q, -1)
		if len(used) == 0 {
			t.Errorf("%s uses no pulsar_ metric: %s", where, q)
		}
		labels := map[string]bool{}
		for _, n := range used {
			if _, ok := names[n]; !ok {
				t.Errorf("%s uses %s, which the daemon does not register", where, n)
			}
			for l := range names[n] {
				labels[l] = true
			}
		}
		for _, l := range usedLabels(q) {
			if !labels[l] {
				t.Errorf("%s uses label %s, which none of its metrics %q has", where, l, used)
			}
		}
	}
}

// The dashboard can be narrowed to one cluster, namespace, topic and
// subscription.
func TestDashboardHasTheTemplateVariables(t *testing.T) {
	queries := dashboardQueries(t)
	for _, v := range []string{"cluster", "namespace", "topic", "subscription"} {
		if _, ok := queries["variable "+v]; !ok {
			t.Errorf("dashboard has no template variable %q", v)
		}
	}
}
