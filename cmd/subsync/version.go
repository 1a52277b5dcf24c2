package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// version and revision are set at link time by release builds
// (-ldflags "-X main.version=1.2.3 -X main.revision=abc123"); when empty,
// the module version and VCS revision Go recorded in the binary are used.
// Package-level because -X can set nothing else; nothing writes them at
// run time.
var (
	version  string
	revision string
)

// buildInfo is what --version prints and build_info exports.
type buildInfo struct {
	Version   string
	Revision  string
	GoVersion string
}

// readBuildInfo merges the link-time values over what Go recorded.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)", Revision: "unknown", GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" {
			b.Version = v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				b.Revision = s.Value
			}
		}
	}
	if version != "" {
		b.Version = version
	}
	if revision != "" {
		b.Revision = revision
	}
	return b
}

func (b buildInfo) String() string {
	return fmt.Sprintf("subsync %s (revision %s, %s)", b.Version, b.Revision, b.GoVersion)
}

// registerBuildInfo exports pulsar_subsync_build_info{version,revision,goversion} 1,
// so dashboards can show which build runs where.
func registerBuildInfo(reg prometheus.Registerer, b buildInfo) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "pulsar_subsync_build_info",
		Help:        "Always 1; the labels say which build of subsync runs.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}
