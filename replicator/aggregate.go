package replicator

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// perTopicLabels are dropped by NamespaceAggregates.
var perTopicLabels = []string{"topic", "subscription"}

// NamespaceAggregates serves what g gathers with every topic-level series
// folded into its namespace, for clusters with too many topics and
// subscriptions to scrape one series each (as Pulsar's
// exposeTopicLevelMetricsInPrometheus=false does): the topic and
// subscription labels go, counters are summed, and gauges combined by
// meaning: seconds of lag and the deferred flag by their maximum (the
// worst subscription), entry counts and index runs summed (-1, unknown,
// when any is unknown). The role gauge has no namespace meaning and is
// left out. Families without a topic label pass unchanged.
func NamespaceAggregates(g prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		fams, err := g.Gather()
		out := make([]*dto.MetricFamily, 0, len(fams))
		for _, f := range fams {
			if !hasTopicLabel(f) {
				out = append(out, f)
				continue
			}
			if f.GetName() == metricPrefix+"subscription_role" {
				continue
			}
			out = append(out, aggregate(f))
		}
		return out, err
	})
}

func hasTopicLabel(f *dto.MetricFamily) bool {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if slices.Contains(perTopicLabels, l.GetName()) {
				return true
			}
		}
	}
	return false
}

// aggregate folds a family's series by their labels other than topic and
// subscription.
func aggregate(f *dto.MetricFamily) *dto.MetricFamily {
	combine := sumValues
	switch {
	case strings.HasSuffix(f.GetName(), "_seconds"), f.GetName() == metricPrefix+"deferred":
		combine = maxValue
	case f.GetType() == dto.MetricType_GAUGE:
		combine = sumKnown
	}
	groups := map[string]*dto.Metric{}
	var order []string
	for _, m := range f.GetMetric() {
		var labels []*dto.LabelPair
		var key strings.Builder
		for _, l := range m.GetLabel() {
			if slices.Contains(perTopicLabels, l.GetName()) {
				continue
			}
			labels = append(labels, l)
			key.WriteString(l.GetName() + "\x00" + l.GetValue() + "\x00")
		}
		k := key.String()
		agg, ok := groups[k]
		if !ok {
			agg = proto.Clone(m).(*dto.Metric)
			agg.Label, agg.TimestampMs = labels, nil
			groups[k] = agg
			order = append(order, k)
			continue
		}
		merge(agg, m, combine)
	}
	out := &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: f.Type, Unit: f.Unit}
	for _, k := range order {
		out.Metric = append(out.Metric, groups[k])
	}
	return out
}

func sumValues(a, b float64) float64 { return a + b }

func maxValue(a, b float64) float64 { return max(a, b) }

// sumKnown sums entry counts; -1 (unknown) wins.
func sumKnown(a, b float64) float64 {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

// merge folds m into agg: counters, gauges and untyped values by combine,
// histograms bucket by bucket (the daemon's histograms share buckets).
func merge(agg, m *dto.Metric, combine func(a, b float64) float64) {
	switch {
	case agg.Counter != nil && m.Counter != nil:
		agg.Counter.Value = proto.Float64(agg.Counter.GetValue() + m.Counter.GetValue())
		agg.Counter.CreatedTimestamp = nil
	case agg.Gauge != nil && m.Gauge != nil:
		agg.Gauge.Value = proto.Float64(combine(agg.Gauge.GetValue(), m.Gauge.GetValue()))
	case agg.Untyped != nil && m.Untyped != nil:
		agg.Untyped.Value = proto.Float64(combine(agg.Untyped.GetValue(), m.Untyped.GetValue()))
	case agg.Histogram != nil && m.Histogram != nil:
		h, o := agg.Histogram, m.Histogram
		h.SampleCount = proto.Uint64(h.GetSampleCount() + o.GetSampleCount())
		h.SampleSum = proto.Float64(h.GetSampleSum() + o.GetSampleSum())
		for i, b := range h.Bucket {
			if i < len(o.Bucket) && o.Bucket[i].GetUpperBound() == b.GetUpperBound() {
				b.CumulativeCount = proto.Uint64(b.GetCumulativeCount() + o.Bucket[i].GetCumulativeCount())
			}
		}
	}
}
