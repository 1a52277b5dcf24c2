package workload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/rest"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
)

// Endpoint is one cluster as the workload reaches it.
type Endpoint struct {
	Name       string
	ServiceURL string
	WebURL     string
	Client     pulsar.Client
	Admin      pulsaradmin.Client
}

// Connect opens a client and an admin client to one cluster. logger
// receives pulsar-client-go's logs (nil discards them).
func Connect(name, serviceURL, webURL string, logger *slog.Logger) (*Endpoint, error) {
	if name == "" || serviceURL == "" || webURL == "" {
		return nil, fmt.Errorf("connect: cluster name %q, service URL %q and web URL %q are all required", name, serviceURL, webURL)
	}
	adm, err := pulsaradmin.NewClient(&pulsaradmin.Config{WebServiceURL: webURL})
	if err != nil {
		return nil, fmt.Errorf("admin client for %s (%s): %w", name, webURL, err)
	}
	cli, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:               serviceURL,
		ConnectionTimeout: 5 * time.Second,
		OperationTimeout:  10 * time.Second,
		Logger:            clientLogger(logger),
	})
	if err != nil {
		return nil, fmt.Errorf("pulsar client for %s (%s): %w", name, serviceURL, err)
	}
	return &Endpoint{Name: name, ServiceURL: serviceURL, WebURL: webURL, Client: cli, Admin: adm}, nil
}

// clientLogger adapts logger for pulsar-client-go (nil: discard).
func clientLogger(logger *slog.Logger) pulsarlog.Logger {
	if logger == nil {
		return pulsarlog.DefaultNopLogger()
	}
	return pulsarlog.NewLoggerWithSlog(logger)
}

// Close closes the client.
func (e *Endpoint) Close() { e.Client.Close() }

// SetupReplicatedNamespace makes every cluster know the others, creates
// tenant/namespace on each (each cluster has its own metadata store) and
// sets the namespace's replication clusters to all of them. Existing
// clusters, tenants and namespaces are kept.
func SetupReplicatedNamespace(ctx context.Context, namespace string, eps ...*Endpoint) error {
	tenant, _, ok := strings.Cut(namespace, "/")
	if !ok || tenant == "" || strings.Count(namespace, "/") != 1 || strings.HasSuffix(namespace, "/") {
		return fmt.Errorf("namespace %q: expected \"tenant/namespace\"", namespace)
	}
	if len(eps) < 2 {
		return fmt.Errorf("namespace %s: replication needs at least two clusters, got %d", namespace, len(eps))
	}
	names := make([]string, len(eps))
	for i, e := range eps {
		names[i] = e.Name
	}
	for _, e := range eps {
		if err := registerPeers(ctx, e, eps); err != nil {
			return err
		}
		err := e.Admin.Tenants().CreateWithContext(ctx, utils.TenantData{Name: tenant, AllowedClusters: names})
		if err != nil && !isHTTPStatus(err, http.StatusConflict) {
			return fmt.Errorf("create tenant %s on %s: %w", tenant, e.Name, err)
		}
		err = e.Admin.Namespaces().CreateNamespaceWithContext(ctx, namespace)
		if err != nil && !isHTTPStatus(err, http.StatusConflict) {
			return fmt.Errorf("create namespace %s on %s: %w", namespace, e.Name, err)
		}
		if err := e.Admin.Namespaces().SetNamespaceReplicationClustersWithContext(ctx, namespace, names); err != nil {
			return fmt.Errorf("set replication clusters %v of %s on %s: %w", names, namespace, e.Name, err)
		}
		// With the broker's default zero retention a standby deletes each
		// closed ledger of copies as soon as its replicator cursor has
		// passed it, unless a subscription already holds it: a subscription
		// subsync creates there later could not cover them, and failing
		// over would lose them. Unlimited retention keeps them.
		if err := e.Admin.Namespaces().SetRetentionWithContext(ctx, namespace, unlimitedRetention); err != nil {
			return fmt.Errorf("set retention of %s on %s: %w", namespace, e.Name, err)
		}
	}
	return nil
}

var unlimitedRetention = utils.RetentionPolicies{RetentionTimeInMinutes: -1, RetentionSizeInMB: -1}

func registerPeers(ctx context.Context, e *Endpoint, all []*Endpoint) error {
	known, err := e.Admin.Clusters().ListWithContext(ctx)
	if err != nil {
		return fmt.Errorf("list clusters on %s: %w", e.Name, err)
	}
	for _, peer := range all {
		if peer == e || slices.Contains(known, peer.Name) {
			continue
		}
		err := e.Admin.Clusters().CreateWithContext(ctx, utils.ClusterData{
			Name: peer.Name, ServiceURL: peer.WebURL, BrokerServiceURL: peer.ServiceURL})
		if err != nil && !isHTTPStatus(err, http.StatusConflict) {
			return fmt.Errorf("register cluster %s on %s: %w", peer.Name, e.Name, err)
		}
	}
	return nil
}

func isHTTPStatus(err error, code int) bool {
	var re rest.Error
	return errors.As(err, &re) && re.Code == code
}

// CreateTopic creates topic on every cluster: partitioned with that many
// partitions, or non-partitioned when partitions is 0. It must be new on
// the first cluster; on the others it may already exist (replication
// creates it) but must have the same number of partitions.
func CreateTopic(ctx context.Context, topic string, partitions int, eps ...*Endpoint) error {
	if partitions < 0 {
		return fmt.Errorf("topic %s: %d partitions, expected 0 (non-partitioned) or more", topic, partitions)
	}
	tn, err := topicName(topic)
	if err != nil {
		return err
	}
	for i, e := range eps {
		err := e.Admin.Topics().CreateWithContext(ctx, tn, partitions)
		// Geo-replication may have created the topic on a remote already.
		if err != nil && (i == 0 || !isHTTPStatus(err, http.StatusConflict)) {
			return fmt.Errorf("create topic %s (%d partitions) on %s: %w", topic, partitions, e.Name, err)
		}
		meta, err := partitionedMetadata(ctx, e, tn)
		if err != nil {
			return fmt.Errorf("partitioned metadata of %s on %s: %w", topic, e.Name, err)
		}
		if meta.Partitions != partitions {
			return fmt.Errorf("topic %s on %s has %d partitions, expected %d", topic, e.Name, meta.Partitions, partitions)
		}
	}
	return nil
}

// partitionedMetadata reads a topic's partitioned metadata, waiting a
// little for it: a real broker that answers 409 because geo-replication is
// creating the topic there may not show it yet.
func partitionedMetadata(ctx context.Context, e *Endpoint, tn utils.TopicName) (utils.PartitionedTopicMetadata, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		meta, err := e.Admin.Topics().GetMetadataWithContext(ctx, tn)
		if err == nil || !isHTTPStatus(err, http.StatusNotFound) || time.Now().After(deadline) {
			return meta, err
		}
		select {
		case <-ctx.Done():
			return utils.PartitionedTopicMetadata{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CreateSubscription creates a durable subscription at the earliest
// position on every cluster, as an application does before producing so
// that no message is missed on either side.
func CreateSubscription(ctx context.Context, topic, sub string, eps ...*Endpoint) error {
	tn, err := topicName(topic)
	if err != nil {
		return err
	}
	for _, e := range eps {
		if err := e.Admin.Subscriptions().CreateWithContext(ctx, tn, sub, utils.Earliest); err != nil {
			return fmt.Errorf("create subscription %s on %s/%s: %w", sub, e.Name, topic, err)
		}
	}
	return nil
}

func topicName(topic string) (utils.TopicName, error) {
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		return utils.TopicName{}, fmt.Errorf("topic %q: %w", topic, err)
	}
	return *tn, nil
}

// Backlog is a subscription's msgBacklog on one cluster, summed over
// partitions for a partitioned topic.
func Backlog(ctx context.Context, e *Endpoint, topic, sub string) (int64, error) {
	tn, err := topicName(topic)
	if err != nil {
		return 0, err
	}
	meta, err := e.Admin.Topics().GetMetadataWithContext(ctx, tn)
	if err != nil {
		return 0, fmt.Errorf("partitioned metadata of %s on %s: %w", topic, e.Name, err)
	}
	var subs map[string]utils.SubscriptionStats
	if meta.Partitions > 0 {
		st, err := e.Admin.Topics().GetPartitionedStatsWithContext(ctx, tn, false)
		if err != nil {
			return 0, fmt.Errorf("partitioned stats of %s on %s: %w", topic, e.Name, err)
		}
		subs = st.Subscriptions
	} else {
		st, err := e.Admin.Topics().GetStatsWithContext(ctx, tn)
		if err != nil {
			return 0, fmt.Errorf("stats of %s on %s: %w", topic, e.Name, err)
		}
		subs = st.Subscriptions
	}
	s, ok := subs[sub]
	if !ok {
		return 0, fmt.Errorf("stats of %s on %s: no subscription %q", topic, e.Name, sub)
	}
	return s.MsgBacklog, nil
}

// CursorState fingerprints a subscription's cursor on one cluster: each
// partition's mark-delete position and individually deleted ranges. Two
// equal fingerprints mean nothing was acknowledged in between.
func CursorState(ctx context.Context, e *Endpoint, topic, sub string) (string, error) {
	tn, err := topicName(topic)
	if err != nil {
		return "", err
	}
	meta, err := e.Admin.Topics().GetMetadataWithContext(ctx, tn)
	if err != nil {
		return "", fmt.Errorf("partitioned metadata of %s on %s: %w", topic, e.Name, err)
	}
	parts := []utils.TopicName{tn}
	if meta.Partitions > 0 {
		parts = parts[:0]
		for i := 0; i < meta.Partitions; i++ {
			p, err := tn.GetPartition(i)
			if err != nil {
				return "", fmt.Errorf("partition %d of %s: %w", i, topic, err)
			}
			parts = append(parts, *p)
		}
	}
	var b strings.Builder
	for _, p := range parts {
		st, err := e.Admin.Topics().GetInternalStatsWithContext(ctx, p)
		if err != nil {
			return "", fmt.Errorf("internal stats of %s on %s: %w", p.String(), e.Name, err)
		}
		c, ok := st.Cursors[sub]
		if !ok {
			return "", fmt.Errorf("internal stats of %s on %s: no cursor %q", p.String(), e.Name, sub)
		}
		fmt.Fprintf(&b, "%s %s;", c.MarkDeletePosition, c.IndividuallyDeletedMessages)
	}
	return b.String(), nil
}

// ParseSubscriptionType reads "shared", "key_shared", "failover" or
// "exclusive" (any case, '-' for '_').
func ParseSubscriptionType(s string) (pulsar.SubscriptionType, error) {
	switch strings.ReplaceAll(strings.ToLower(s), "-", "_") {
	case "shared":
		return pulsar.Shared, nil
	case "key_shared", "keyshared":
		return pulsar.KeyShared, nil
	case "failover":
		return pulsar.Failover, nil
	case "exclusive":
		return pulsar.Exclusive, nil
	}
	return 0, fmt.Errorf("subscription type %q: expected shared, key_shared, failover or exclusive", s)
}

// SubscriptionTypeName is ParseSubscriptionType's inverse.
func SubscriptionTypeName(t pulsar.SubscriptionType) string {
	switch t {
	case pulsar.Shared:
		return "shared"
	case pulsar.KeyShared:
		return "key_shared"
	case pulsar.Failover:
		return "failover"
	case pulsar.Exclusive:
		return "exclusive"
	}
	return fmt.Sprintf("type(%d)", int(t))
}
