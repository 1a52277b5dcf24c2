package replicator

import "time"

// The reports below are what the CLI prints and the daemon's HTTP API
// serves (JSON field names are part of that API).

// StatusReport is `subsync status`: per topic, subscription and remote.
type StatusReport struct {
	Cluster     string        `json:"cluster"`
	GeneratedAt time.Time     `json:"generatedAt"`
	Topics      []TopicStatus `json:"topics"`
}

// TopicStatus is one topic partition's tail and snapshot state.
type TopicStatus struct {
	Topic          string               `json:"topic"`
	LastConfirmed  string               `json:"lastConfirmedEntry"`
	TailPosition   string               `json:"tailPosition"`
	TailLagEntries int64                `json:"tailLagEntries"`
	IndexRuns      int                  `json:"indexRuns"`
	Remotes        []RemoteTopicStatus  `json:"remotes"`
	Subscriptions  []SubscriptionStatus `json:"subscriptions"`
}

// RemoteTopicStatus is what the snapshot protocol last learned of a remote.
type RemoteTopicStatus struct {
	Remote string `json:"remote"`
	// LastSnapshot is when the remote last answered a snapshot request
	// (zero if never).
	LastSnapshot time.Time `json:"lastSnapshot"`
	// ReplicationLagEntries counts this cluster's own entries, up to the
	// last request's LAC, that the remote had not yet received.
	ReplicationLagEntries int64   `json:"replicationLagEntries"`
	RoundTripSeconds      float64 `json:"roundTripSeconds"`
}

// SubscriptionStatus is one subscription's local state and its sync with
// each remote.
type SubscriptionStatus struct {
	Subscription       string                     `json:"subscription"`
	MarkDeletePosition string                     `json:"markDeletePosition"`
	DeletedRanges      int                        `json:"individuallyDeletedRanges"`
	Remotes            []SubscriptionRemoteStatus `json:"remotes"`
}

// SubscriptionRemoteStatus compares one subscription with one remote.
type SubscriptionRemoteStatus struct {
	Remote string `json:"remote"`
	// RemoteAckedNotAppliedHere: entries the remote acknowledged that this
	// cluster has (in its tail index) but not yet acknowledged.
	RemoteAckedNotAppliedHere int64 `json:"remoteAckedNotAppliedHere"`
	// LocalAckedNotAckedThere: entries acknowledged here that the remote's
	// last known state does not show acknowledged.
	LocalAckedNotAckedThere int64 `json:"localAckedNotAckedThere"`
	// LastUpdate is when the remote's last update was received.
	LastUpdate time.Time `json:"lastUpdate"`
	// Following: this subscription follows the remote (mirrors it as its
	// owner, or takes its acknowledgements in while both have consumers).
	// LagSeconds is then how long it has been behind it, as
	// pulsar_subsync_sync_lag_seconds: 0 while nothing is pending, the
	// age of the oldest pending acknowledgement, or the time since the
	// local cursor was last read while reads fail.
	Following  bool    `json:"following"`
	LagSeconds float64 `json:"lagSeconds"`
	// Deferred is set while acks cannot be applied (DeferReason says why).
	Deferred    bool   `json:"deferred"`
	DeferReason string `json:"deferReason,omitempty"`
}

// MappingsReport is `subsync mappings TOPIC`.
type MappingsReport struct {
	Topic     string        `json:"topic"`
	Runs      []RunView     `json:"runs"`
	Snapshots []MappingView `json:"snapshots"`
}

// RunView is one tail-index run.
type RunView struct {
	Local       string `json:"local"`
	Origin      string `json:"origin"`
	OriginStart string `json:"originStart"`
	Count       int64  `json:"count"`
}

// MappingView is one snapshot mapping.
type MappingView struct {
	Remote    string    `json:"remote"`
	Local     string    `json:"local"`
	RemoteLAC string    `json:"remoteLac"`
	Watermark string    `json:"watermark,omitempty"`
	At        time.Time `json:"at"`
}

// FailoverReport is `subsync failover-check`: can consumers move to the
// standby without duplicates beyond the threshold?
type FailoverReport struct {
	Cluster       string                 `json:"cluster"`
	GeneratedAt   time.Time              `json:"generatedAt"`
	Ready         bool                   `json:"ready"`
	Subscriptions []FailoverSubscription `json:"subscriptions"`
	// Problems are why the daemon cannot vouch for the cluster beyond the
	// pairs: it is not ready itself, or a topic's cursors could not be
	// read at check time (its pairs are then missing from Subscriptions).
	Problems []string `json:"problems"`
	// Namespaces in scope and the remote clusters each replicates to (none:
	// there is no standby to fail over to).
	Namespaces []FailoverNamespace `json:"namespaces"`
	// ExportIntervalSeconds and FullStateIntervalSeconds let a reader tell
	// a stale view: cursors are read every export interval, and a remote
	// sends its full state at least every full-state interval.
	ExportIntervalSeconds    float64 `json:"exportIntervalSeconds"`
	FullStateIntervalSeconds float64 `json:"fullStateIntervalSeconds"`
}

// FailoverNamespace is a namespace in scope and its remote clusters.
type FailoverNamespace struct {
	Namespace string   `json:"namespace"`
	Remotes   []string `json:"remotes"`
	// Waiting: this daemon does not act for the namespace (another daemon
	// of the cluster holds its lease), so it cannot vouch for it.
	Waiting bool `json:"waiting,omitempty"`
}

// FailoverSubscription is one subscription towards one standby.
type FailoverSubscription struct {
	Topic        string `json:"topic"`
	Subscription string `json:"subscription"`
	Standby      string `json:"standby"`
	// Role is this cluster's for the subscription as the owner decision
	// sees it at check time (owner, mirror, shared, unowned); Owner the
	// cluster that owns it (for owner and mirror).
	Role  string `json:"role"`
	Owner string `json:"owner,omitempty"`
	// Consumers counts the application consumers attached here at check
	// time: while any are, more may be acknowledged after the check.
	Consumers int `json:"consumers"`
	// NotAckedOnStandby: entries acknowledged here, read at check time,
	// that the standby's last report does not show acknowledged (each
	// would be delivered again after a switch). Acknowledgements that stay
	// local (owner semantics) are not counted.
	NotAckedOnStandby int64 `json:"notAckedOnStandby"`
	// AckedOnStandbyOnly: while this cluster owns the subscription, the
	// entries the standby shows acknowledged that are not acknowledged
	// here (each would never be delivered after a switch); the standby
	// mirrors this cluster and resets them back.
	AckedOnStandbyOnly int64 `json:"ackedOnStandbyOnly"`
	// ReplicationLagEntries: this cluster's entries the standby has not yet
	// received: not processed by Pulsar's replicator to it, as read at
	// check time.
	ReplicationLagEntries int64  `json:"replicationLagEntries"`
	Ready                 bool   `json:"ready"`
	Reason                string `json:"reason,omitempty"`
	// ReadAt is when this cluster's cursors of the topic were read (at
	// check time);
	// StandbyUpdateAt when the standby's last update for the subscription
	// arrived (zero: none yet).
	ReadAt          time.Time `json:"readAt"`
	StandbyUpdateAt time.Time `json:"standbyUpdateAt"`
}
