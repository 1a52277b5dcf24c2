package replicator

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// With topic-level series off, each family with a topic label has one
// series per namespace (and remaining labels): counters summed, lag in
// seconds by its maximum, entry counts summed unless one is unknown, the
// role left out; families without a topic label are untouched.
func TestNamespaceAggregatesFoldTopicSeries(t *testing.T) {
	m := NewMetrics(nil)
	ns := "shop/eu"
	for _, c := range []struct {
		topic, sub     string
		applied, lagS  float64
		lagN, tailLag  float64
		otherNamespace bool
	}{
		{topic: "persistent://shop/eu/a", sub: "s1", applied: 3, lagS: 2, lagN: 5, tailLag: 1},
		{topic: "persistent://shop/eu/a", sub: "s2", applied: 4, lagS: 9, lagN: 1, tailLag: 1},
		{topic: "persistent://shop/eu/b", sub: "s1", applied: 10, lagS: 0, lagN: 0, tailLag: -1},
		{topic: "persistent://shop/us/c", sub: "s1", applied: 100, lagS: 50, lagN: 7, tailLag: 2, otherNamespace: true},
	} {
		n := ns
		if c.otherNamespace {
			n = "shop/us"
		}
		labels := []string{"east", n, c.topic, c.sub, "west"}
		m.AcksApplied.WithLabelValues(labels...).Add(c.applied)
		m.SyncLagSeconds.WithLabelValues(labels...).Set(c.lagS)
		m.SyncLagEntries.WithLabelValues(labels...).Set(c.lagN)
		m.TailLagEntries.WithLabelValues("east", n, c.topic).Set(c.tailLag)
		m.Role.WithLabelValues("east", n, c.topic, c.sub).Set(1)
	}
	m.TopicsInScope.WithLabelValues("east", ns).Set(2)
	fams, err := NamespaceAggregates(m.Registry).Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]float64{} // family -> namespace -> value
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if _, ok := labels["topic"]; ok {
				t.Errorf("%s keeps a topic label: %v", f.GetName(), labels)
			}
			if _, ok := labels["subscription"]; ok {
				t.Errorf("%s keeps a subscription label: %v", f.GetName(), labels)
			}
			if got[f.GetName()] == nil {
				got[f.GetName()] = map[string]float64{}
			}
			if _, dup := got[f.GetName()][labels["namespace"]]; dup {
				t.Errorf("%s has two series for namespace %s", f.GetName(), labels["namespace"])
			}
			got[f.GetName()][labels["namespace"]] = value(s)
		}
	}
	want := map[string]map[string]float64{
		"pulsar_subsync_acks_applied_total": {ns: 17, "shop/us": 100},
		"pulsar_subsync_sync_lag_seconds":   {ns: 9, "shop/us": 50},
		"pulsar_subsync_sync_lag_entries":   {ns: 6, "shop/us": 7},
		"pulsar_subsync_tail_lag_entries":   {ns: -1, "shop/us": 2},
		"pulsar_subsync_topics":             {ns: 2},
	}
	for name, byNS := range want {
		for n, v := range byNS {
			if got[name][n] != v {
				t.Errorf("%s{namespace=%s} = %v, want %v", name, n, got[name][n], v)
			}
		}
	}
	if _, ok := got["pulsar_subsync_subscription_role"]; ok {
		t.Error("the role gauge is exported per namespace; it has no namespace meaning")
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return m.GetUntyped().GetValue()
}
