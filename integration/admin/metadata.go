package admin

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// ClusterData is a cluster's registration, with Pulsar's JSON field names
// (ClusterDataImpl). The name is not part of the body: it is the path key.
type ClusterData struct {
	ServiceURL          string   `json:"serviceUrl,omitempty"`
	ServiceURLTLS       string   `json:"serviceUrlTls,omitempty"`
	BrokerServiceURL    string   `json:"brokerServiceUrl,omitempty"`
	BrokerServiceURLTLS string   `json:"brokerServiceUrlTls,omitempty"`
	ProxyServiceURL     string   `json:"proxyServiceUrl,omitempty"`
	PeerClusterNames    []string `json:"peerClusterNames,omitempty"`
	BrokerClientTLS     bool     `json:"brokerClientTlsEnabled"`
	TLSAllowInsecure    bool     `json:"tlsAllowInsecureConnection"`
}

// TenantInfo is a tenant's configuration (TenantInfoImpl JSON).
type TenantInfo struct {
	AdminRoles      []string `json:"adminRoles"`
	AllowedClusters []string `json:"allowedClusters"`
}

// Policies is the subset of a namespace's policies the emulator honours,
// with Pulsar's JSON names (org.apache.pulsar.common.policies.data.Policies).
// MessageTTLSeconds is nil when unset (the broker default applies, and
// GET .../messageTTL answers 204 like Pulsar).
type Policies struct {
	ReplicationClusters []string `json:"replication_clusters"`
	MessageTTLSeconds   *int     `json:"message_ttl_in_seconds"`
	// Retention is nil when unset: the broker default, zero, applies.
	Retention *RetentionPolicies `json:"retention_policies,omitempty"`
	// Fields below are carried for fidelity of GET policies only.
	Bundles      BundlesData       `json:"bundles"`
	AuthPolicies AuthPolicies      `json:"auth_policies"`
	Deleted      bool              `json:"deleted"`
	Properties   map[string]string `json:"properties"`
}

// RetentionPolicies is a namespace's retention (Pulsar's RetentionPolicies
// JSON); -1 means unlimited.
type RetentionPolicies struct {
	RetentionTimeInMinutes int   `json:"retentionTimeInMinutes"`
	RetentionSizeInMB      int64 `json:"retentionSizeInMB"`
}

// Retains says whether the policy keeps consumed ledgers at all.
func (r *RetentionPolicies) Retains() bool {
	return r != nil && r.RetentionTimeInMinutes != 0 && r.RetentionSizeInMB != 0
}

// BundlesData mirrors Pulsar's bundle layout; the emulator has one bundle.
type BundlesData struct {
	Boundaries []string `json:"boundaries"`
	NumBundles int      `json:"numBundles"`
}

// AuthPolicies mirrors Pulsar's (empty) authorization policies.
type AuthPolicies struct {
	NamespaceAuth         map[string][]string            `json:"namespace_auth"`
	DestinationAuth       map[string]map[string][]string `json:"destination_auth"`
	SubscriptionAuthRoles map[string][]string            `json:"subscription_auth_roles"`
}

func defaultPolicies() Policies {
	return Policies{
		Bundles:    BundlesData{Boundaries: []string{"0x00000000", "0xffffffff"}, NumBundles: 1},
		Properties: map[string]string{},
		AuthPolicies: AuthPolicies{
			NamespaceAuth:         map[string][]string{},
			DestinationAuth:       map[string]map[string][]string{},
			SubscriptionAuthRoles: map[string][]string{},
		},
	}
}

func (p Policies) clone() Policies {
	c := p
	c.ReplicationClusters = slices.Clone(p.ReplicationClusters)
	if p.MessageTTLSeconds != nil {
		v := *p.MessageTTLSeconds
		c.MessageTTLSeconds = &v
	}
	if p.Retention != nil {
		r := *p.Retention
		c.Retention = &r
	}
	c.Bundles.Boundaries = slices.Clone(p.Bundles.Boundaries)
	if p.Properties != nil {
		c.Properties = make(map[string]string, len(p.Properties))
		for k, v := range p.Properties {
			c.Properties[k] = v
		}
	}
	return c
}

// Metadata is one emulated cluster's metadata store (each cluster of a sim
// has its own, like two standalone Pulsars). All methods are goroutine-safe
// and return copies. Every successful change closes the channel returned by
// the previous Watch call.
type Metadata struct {
	local string

	mu         sync.Mutex
	clusters   map[string]ClusterData
	tenants    map[string]TenantInfo
	namespaces map[string]Policies // key "tenant/ns"
	version    uint64
	changed    chan struct{}
}

// NewMetadata returns an empty store for the cluster named local.
func NewMetadata(local string) *Metadata {
	return &Metadata{
		local:      local,
		clusters:   map[string]ClusterData{},
		tenants:    map[string]TenantInfo{},
		namespaces: map[string]Policies{},
		changed:    make(chan struct{}),
	}
}

// SeedStandalone registers every cluster of the sim, tenant "public"
// (allowed on all of them, so geo-replication can be switched on without a
// tenant update) and namespace "public/default" replicated to the local
// cluster only, as a standalone Pulsar starts.
func (m *Metadata) SeedStandalone(clusters map[string]ClusterData) error {
	names := make([]string, 0, len(clusters))
	for name, cd := range clusters {
		if err := m.CreateCluster(name, cd); err != nil {
			return fmt.Errorf("seed cluster %q: %w", name, err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if err := m.CreateTenant("public", TenantInfo{AllowedClusters: names}); err != nil {
		return fmt.Errorf("seed tenant public: %w", err)
	}
	p := defaultPolicies()
	p.ReplicationClusters = []string{m.local}
	if err := m.CreateNamespace("public/default", p); err != nil {
		return fmt.Errorf("seed namespace public/default: %w", err)
	}
	return nil
}

// LocalCluster is the name of the cluster this store belongs to.
func (m *Metadata) LocalCluster() string { return m.local }

// Watch returns a channel closed at the next successful change. Re-call it
// after each wake-up; read the state with the getters.
func (m *Metadata) Watch() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Version counts successful changes (it starts at 0).
func (m *Metadata) Version() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version
}

// notifyLocked must be called with mu held after a successful change.
func (m *Metadata) notifyLocked() {
	m.version++
	close(m.changed)
	m.changed = make(chan struct{})
}

// validName follows Pulsar's NamedEntity.checkName: letters, digits and
// -=:._ only.
var validName = regexp.MustCompile(`^[-=:.\w]+$`)

// ---- clusters ----

// Clusters lists registered cluster names, sorted.
func (m *Metadata) Clusters() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortedKeys(m.clusters)
}

// Cluster returns a cluster's registration.
func (m *Metadata) Cluster(name string) (ClusterData, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cd, ok := m.clusters[name]
	if !ok {
		return ClusterData{}, Errorf(http.StatusNotFound, "Cluster does not exist")
	}
	cd.PeerClusterNames = slices.Clone(cd.PeerClusterNames)
	return cd, nil
}

// CreateCluster registers a new cluster (409 if it exists).
func (m *Metadata) CreateCluster(name string, cd ClusterData) error {
	if !validName.MatchString(name) {
		return Errorf(http.StatusPreconditionFailed, "Cluster name is not valid: %q", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clusters[name]; ok {
		return Errorf(http.StatusConflict, "Cluster already exists")
	}
	cd.PeerClusterNames = slices.Clone(cd.PeerClusterNames)
	m.clusters[name] = cd
	m.notifyLocked()
	return nil
}

// UpdateCluster replaces an existing cluster's registration (404 if absent).
func (m *Metadata) UpdateCluster(name string, cd ClusterData) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clusters[name]; !ok {
		return Errorf(http.StatusNotFound, "Cluster does not exist")
	}
	cd.PeerClusterNames = slices.Clone(cd.PeerClusterNames)
	m.clusters[name] = cd
	m.notifyLocked()
	return nil
}

// DeleteCluster removes a cluster no tenant or namespace uses.
func (m *Metadata) DeleteCluster(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clusters[name]; !ok {
		return Errorf(http.StatusNotFound, "Cluster does not exist")
	}
	for ns, p := range m.namespaces {
		if slices.Contains(p.ReplicationClusters, name) {
			return Errorf(http.StatusPreconditionFailed, "Cluster not empty: used by namespace %s", ns)
		}
	}
	delete(m.clusters, name)
	m.notifyLocked()
	return nil
}

// ---- tenants ----

// Tenants lists tenant names, sorted.
func (m *Metadata) Tenants() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortedKeys(m.tenants)
}

// Tenant returns a tenant's configuration.
func (m *Metadata) Tenant(name string) (TenantInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ti, ok := m.tenants[name]
	if !ok {
		return TenantInfo{}, Errorf(http.StatusNotFound, "Tenant does not exist")
	}
	return cloneTenant(ti), nil
}

// CreateTenant creates a tenant whose allowed clusters all exist.
func (m *Metadata) CreateTenant(name string, ti TenantInfo) error {
	if !validName.MatchString(name) {
		return Errorf(http.StatusPreconditionFailed, "Tenant name is not valid")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[name]; ok {
		return Errorf(http.StatusConflict, "Tenant already exists")
	}
	if err := m.checkClustersExistLocked(ti.AllowedClusters); err != nil {
		return err
	}
	m.tenants[name] = cloneTenant(ti)
	m.notifyLocked()
	return nil
}

// UpdateTenant replaces a tenant's configuration; it may not drop an allowed
// cluster that one of its namespaces replicates to.
func (m *Metadata) UpdateTenant(name string, ti TenantInfo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[name]; !ok {
		return Errorf(http.StatusNotFound, "Tenant does not exist")
	}
	if err := m.checkClustersExistLocked(ti.AllowedClusters); err != nil {
		return err
	}
	for ns, p := range m.namespaces {
		if tenantOf(ns) != name {
			continue
		}
		for _, c := range p.ReplicationClusters {
			if !slices.Contains(ti.AllowedClusters, c) {
				return Errorf(http.StatusConflict, "Cluster %s is used by namespace %s", c, ns)
			}
		}
	}
	m.tenants[name] = cloneTenant(ti)
	m.notifyLocked()
	return nil
}

// DeleteTenant removes a tenant without namespaces.
func (m *Metadata) DeleteTenant(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[name]; !ok {
		return Errorf(http.StatusNotFound, "Tenant does not exist")
	}
	for ns := range m.namespaces {
		if tenantOf(ns) == name {
			return Errorf(http.StatusConflict, "The tenant still has active namespaces")
		}
	}
	delete(m.tenants, name)
	m.notifyLocked()
	return nil
}

func (m *Metadata) checkClustersExistLocked(names []string) error {
	for _, c := range names {
		if _, ok := m.clusters[c]; !ok {
			return Errorf(http.StatusPreconditionFailed, "Clusters do not exist")
		}
	}
	return nil
}

func cloneTenant(ti TenantInfo) TenantInfo {
	return TenantInfo{
		AdminRoles:      nonNil(slices.Clone(ti.AdminRoles)),
		AllowedClusters: nonNil(slices.Clone(ti.AllowedClusters)),
	}
}

// ---- namespaces ----

// Namespaces lists a tenant's namespaces as "tenant/ns", sorted.
func (m *Metadata) Namespaces(tenant string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[tenant]; !ok {
		return nil, Errorf(http.StatusNotFound, "Tenant not found") // NamespacesBase.internalGetTenantNamespaces
	}
	out := []string{}
	for ns := range m.namespaces {
		if tenantOf(ns) == tenant {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out, nil
}

// HasNamespace reports whether "tenant/ns" exists.
func (m *Metadata) HasNamespace(ns string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.namespaces[ns]
	return ok
}

// Policies returns a namespace's policies.
func (m *Metadata) Policies(ns string) (Policies, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.namespaces[ns]
	if !ok {
		return Policies{}, errNamespaceNotFound
	}
	return p.clone(), nil
}

var errNamespaceNotFound = Errorf(http.StatusNotFound, "Namespace does not exist")

// CreateNamespace creates "tenant/ns". Empty replication clusters default to
// the local cluster, as in Pulsar; listed ones must exist and be allowed for
// the tenant.
func (m *Metadata) CreateNamespace(ns string, p Policies) error {
	tenant, local, err := splitNamespace(ns)
	if err != nil {
		return err
	}
	if !validName.MatchString(local) {
		return Errorf(http.StatusPreconditionFailed, "Namespace name is not valid: %q", ns)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ti, ok := m.tenants[tenant]
	if !ok {
		return Errorf(http.StatusNotFound, "Tenant does not exist")
	}
	if _, ok := m.namespaces[ns]; ok {
		return Errorf(http.StatusConflict, "Namespace already exists")
	}
	if len(p.ReplicationClusters) == 0 {
		p.ReplicationClusters = []string{m.local}
	}
	if err := m.checkReplicationLocked(tenant, ti, p.ReplicationClusters); err != nil {
		return err
	}
	if err := checkTTL(p.MessageTTLSeconds); err != nil {
		return err
	}
	p = fillPolicyDefaults(p)
	m.namespaces[ns] = p.clone()
	m.notifyLocked()
	return nil
}

func fillPolicyDefaults(p Policies) Policies {
	d := defaultPolicies()
	if p.Bundles.NumBundles == 0 {
		p.Bundles = d.Bundles
	}
	if p.Properties == nil {
		p.Properties = d.Properties
	}
	if p.AuthPolicies.NamespaceAuth == nil {
		p.AuthPolicies = d.AuthPolicies
	}
	p.ReplicationClusters = dedupe(p.ReplicationClusters)
	return p
}

// DeleteNamespace removes a namespace. The caller checks it holds no topics
// (Pulsar: 409 "Cannot delete non empty namespace").
func (m *Metadata) DeleteNamespace(ns string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.namespaces[ns]; !ok {
		return errNamespaceNotFound
	}
	delete(m.namespaces, ns)
	m.notifyLocked()
	return nil
}

// ReplicationClusters returns a namespace's replication clusters.
func (m *Metadata) ReplicationClusters(ns string) ([]string, error) {
	p, err := m.Policies(ns)
	if err != nil {
		return nil, err
	}
	return nonNil(p.ReplicationClusters), nil
}

// SetReplicationClusters replaces a namespace's replication clusters
// (NamespacesBase.internalSetNamespaceReplicationClusters).
func (m *Metadata) SetReplicationClusters(ns string, clusters []string) error {
	if len(clusters) == 0 {
		return Errorf(http.StatusPreconditionFailed, "ClusterIds should not be null or empty")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.namespaces[ns]
	if !ok {
		return errNamespaceNotFound
	}
	tenant := tenantOf(ns)
	if err := m.checkReplicationLocked(tenant, m.tenants[tenant], clusters); err != nil {
		return err
	}
	p.ReplicationClusters = dedupe(clusters)
	m.namespaces[ns] = p
	m.notifyLocked()
	return nil
}

func (m *Metadata) checkReplicationLocked(tenant string, ti TenantInfo, clusters []string) error {
	for _, c := range clusters {
		if c == "global" {
			return Errorf(http.StatusPreconditionFailed, "Cannot specify global in the list of replication clusters")
		}
		if _, ok := m.clusters[c]; !ok {
			return Errorf(http.StatusForbidden, "Invalid cluster id: %s", c)
		}
		if !slices.Contains(ti.AllowedClusters, c) {
			return Errorf(http.StatusForbidden,
				"Cluster %s is not in the list of allowed clusters list for tenant [%s]", c, tenant)
		}
	}
	return nil
}

// MessageTTL returns the namespace's TTL in seconds, nil when unset.
func (m *Metadata) MessageTTL(ns string) (*int, error) {
	p, err := m.Policies(ns)
	if err != nil {
		return nil, err
	}
	return p.MessageTTLSeconds, nil
}

// SetMessageTTL sets the namespace's TTL (seconds >= 0; 0 disables expiry).
func (m *Metadata) SetMessageTTL(ns string, seconds int) error {
	if err := checkTTL(&seconds); err != nil {
		return err
	}
	return m.updatePolicies(ns, func(p *Policies) { p.MessageTTLSeconds = &seconds })
}

// RemoveMessageTTL unsets the namespace's TTL.
func (m *Metadata) RemoveMessageTTL(ns string) error {
	return m.updatePolicies(ns, func(p *Policies) { p.MessageTTLSeconds = nil })
}

// Retention returns the namespace's retention policy, nil when unset.
func (m *Metadata) Retention(ns string) (*RetentionPolicies, error) {
	p, err := m.Policies(ns)
	if err != nil {
		return nil, err
	}
	return p.Retention, nil
}

// SetRetention sets the namespace's retention policy. As
// NamespacesBase.checkRetentionPolicies, a value below -1 is refused, and
// so is a policy that limits one of time and size to zero but not the
// other.
func (m *Metadata) SetRetention(ns string, r RetentionPolicies) error {
	if r.RetentionTimeInMinutes < -1 || r.RetentionSizeInMB < -1 {
		return Errorf(http.StatusPreconditionFailed, "Invalid retention policy: retention time and size must be >= -1")
	}
	if (r.RetentionTimeInMinutes == 0) != (r.RetentionSizeInMB == 0) {
		return Errorf(http.StatusPreconditionFailed, "Invalid retention policy: retention time and size must both be zero or both be non-zero")
	}
	return m.updatePolicies(ns, func(p *Policies) { p.Retention = &r })
}

// RemoveRetention unsets the namespace's retention policy.
func (m *Metadata) RemoveRetention(ns string) error {
	return m.updatePolicies(ns, func(p *Policies) { p.Retention = nil })
}

func (m *Metadata) updatePolicies(ns string, change func(*Policies)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.namespaces[ns]
	if !ok {
		return errNamespaceNotFound
	}
	change(&p)
	m.namespaces[ns] = p
	m.notifyLocked()
	return nil
}

func checkTTL(seconds *int) error {
	if seconds != nil && *seconds < 0 {
		return Errorf(http.StatusPreconditionFailed, "Invalid value for message TTL, message TTL must >= 0")
	}
	return nil
}

// ---- helpers ----

func splitNamespace(ns string) (tenant, local string, err error) {
	t, l, ok := strings.Cut(ns, "/")
	if !ok || t == "" || l == "" || strings.Contains(l, "/") {
		return "", "", Errorf(http.StatusPreconditionFailed, "Invalid namespace name %q: want tenant/namespace", ns)
	}
	return t, l, nil
}

func tenantOf(ns string) string {
	t, _, _ := strings.Cut(ns, "/")
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func dedupe(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
