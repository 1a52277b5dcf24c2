package replicator

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/subsync/subsync/snapshot"
)

// Config is what one daemon needs to know to sync its cluster's
// subscriptions. Package cmd/subsync fills it from the YAML file, flags
// and environment; New validates it again.
type Config struct {
	// Cluster is the local cluster's name, as Pulsar knows it.
	Cluster string
	// Namespaces in scope ("tenant/ns"); every persistent topic in them is
	// synced unless TopicPatterns narrows it.
	Namespaces []string
	// TopicPatterns, when set, keep only topics whose full name
	// ("persistent://t/ns/x", partitions by their parent's name) matches one.
	TopicPatterns []*regexp.Regexp
	// IncludeSubscriptions, when set, keep only matching subscriptions;
	// ExcludeSubscriptions drop matching ones. System cursors (any name
	// starting with "pulsar." or "__", see IsSystemCursor) and non-durable
	// cursors are always excluded, whatever the patterns say.
	IncludeSubscriptions []*regexp.Regexp
	ExcludeSubscriptions []*regexp.Regexp
	// ControlTopic is the local name of the geo-replicated control topic
	// created in every namespace in scope (default "subsync-control").
	ControlTopic string
	// Keys authenticate control-topic messages.
	Keys *snapshot.Keyring
	// ExportInterval is how often subscriptions are read and changes
	// published (default 1s); FullStateEvery sends a full state instead of
	// a delta every so many exports (default 30).
	ExportInterval time.Duration
	FullStateEvery int
	// SnapshotInterval is how often each topic runs the snapshot protocol
	// (default 10s); SnapshotTimeout abandons unanswered requests (30s).
	SnapshotInterval time.Duration
	SnapshotTimeout  time.Duration
	// DiscoveryInterval is how often new topics and subscriptions are
	// looked for (default 10s).
	DiscoveryInterval time.Duration
	// AdminTimeout bounds each read of a topic's cursors (default 10s), so
	// a hung admin call holds its topic's loop and an admin slot that long
	// at most, whatever HTTP client the admin API was given.
	AdminTimeout time.Duration
	// AdminConcurrency bounds the cursor reads in flight at once
	// (default 8, pulsaradmin's idle connections per host being 10).
	AdminConcurrency int
	// ResetThreshold: a forward jump of the mark-delete position by at least
	// this many entries, on a subscription with no consumers attached, is
	// applied by reset-cursor instead of individual acks (default 10000;
	// 0 keeps the default, a negative value disables resets).
	ResetThreshold int64
	// LeaseInterval is how often a daemon tries to take, or confirms it
	// holds, each namespace's lease (default 1s). A new holder acts
	// leaseGraceIntervals (8) of them after taking the lease, so takeover
	// after a holder dies takes about nine intervals.
	LeaseInterval time.Duration
}

// DefaultControlTopic is the control topic's local name in each namespace.
const DefaultControlTopic = "subsync-control"

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.ControlTopic == "" {
		c.ControlTopic = DefaultControlTopic
	}
	if c.ExportInterval <= 0 {
		c.ExportInterval = time.Second
	}
	if c.FullStateEvery <= 0 {
		c.FullStateEvery = 30
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = 10 * time.Second
	}
	if c.SnapshotTimeout <= 0 {
		c.SnapshotTimeout = 30 * time.Second
	}
	if c.DiscoveryInterval <= 0 {
		c.DiscoveryInterval = 10 * time.Second
	}
	if c.ResetThreshold == 0 {
		c.ResetThreshold = 10000
	}
	if c.AdminTimeout <= 0 {
		c.AdminTimeout = 10 * time.Second
	}
	if c.AdminConcurrency <= 0 {
		c.AdminConcurrency = defaultAdminConcurrency
	}
	if c.LeaseInterval <= 0 {
		c.LeaseInterval = time.Second
	}
	return c
}

// Validate lists every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Cluster == "" {
		errs = append(errs, errors.New("cluster: the local cluster name is required"))
	}
	if len(c.Namespaces) == 0 {
		errs = append(errs, errors.New("namespaces: at least one \"tenant/namespace\" is required"))
	}
	for _, ns := range c.Namespaces {
		if parts := strings.Split(ns, "/"); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			errs = append(errs, fmt.Errorf("namespaces: %q is not \"tenant/namespace\"", ns))
		}
	}
	if strings.ContainsAny(c.ControlTopic, "/:") {
		errs = append(errs, fmt.Errorf("controlTopic: %q must be a local topic name without '/' or ':'", c.ControlTopic))
	}
	if c.Keys == nil {
		errs = append(errs, errors.New("hmacKeyFile: a shared HMAC key is required to authenticate control messages"))
	}
	return errors.Join(errs...)
}
