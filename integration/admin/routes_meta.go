package admin

import (
	"net/http"
	"strings"
)

// ---- /admin/v2/clusters ----

func (s *Server) routeClusters(q *request, rest []string) error {
	switch len(rest) {
	case 0:
		return q.method(map[string]func() error{
			http.MethodGet: func() error { return q.ok(s.md.Clusters()) },
		})
	case 1:
		name := rest[0]
		return q.method(map[string]func() error{
			http.MethodGet: func() error {
				cd, err := s.md.Cluster(name)
				if err != nil {
					return err
				}
				return q.ok(cd)
			},
			http.MethodPut: func() error {
				var cd ClusterData
				if err := q.readJSON(&cd, false); err != nil {
					return err
				}
				return noContentOr(q, s.md.CreateCluster(name, cd))
			},
			http.MethodPost: func() error {
				var cd ClusterData
				if err := q.readJSON(&cd, false); err != nil {
					return err
				}
				return noContentOr(q, s.md.UpdateCluster(name, cd))
			},
			http.MethodDelete: func() error { return noContentOr(q, s.md.DeleteCluster(name)) },
		})
	case 2:
		if rest[1] != "peers" {
			return errNoRoute
		}
		return q.method(map[string]func() error{
			http.MethodGet: func() error {
				cd, err := s.md.Cluster(rest[0])
				if err != nil {
					return err
				}
				return q.ok(nonNil(cd.PeerClusterNames))
			},
		})
	}
	return errNoRoute
}

func noContentOr(q *request, err error) error {
	if err != nil {
		return err
	}
	return q.noContent()
}

// ---- /admin/v2/tenants ----

func (s *Server) routeTenants(q *request, rest []string) error {
	switch {
	case len(rest) == 0 || (len(rest) == 1 && rest[0] == ""):
		return q.method(map[string]func() error{
			http.MethodGet: func() error { return q.ok(s.md.Tenants()) },
		})
	case len(rest) == 1:
		name := rest[0]
		return q.method(map[string]func() error{
			http.MethodGet: func() error {
				ti, err := s.md.Tenant(name)
				if err != nil {
					return err
				}
				return q.ok(ti)
			},
			http.MethodPut: func() error {
				var ti TenantInfo
				if err := q.readJSON(&ti, true); err != nil {
					return err
				}
				return noContentOr(q, s.md.CreateTenant(name, ti))
			},
			http.MethodPost: func() error {
				var ti TenantInfo
				if err := q.readJSON(&ti, false); err != nil {
					return err
				}
				return noContentOr(q, s.md.UpdateTenant(name, ti))
			},
			http.MethodDelete: func() error { return noContentOr(q, s.md.DeleteTenant(name)) },
		})
	}
	return errNoRoute
}

// ---- /admin/v2/namespaces ----

func (s *Server) routeNamespaces(q *request, rest []string) error {
	switch len(rest) {
	case 0:
		return errNoRoute
	case 1:
		tenant := rest[0]
		return q.method(map[string]func() error{
			http.MethodGet: func() error {
				list, err := s.md.Namespaces(tenant)
				if err != nil {
					return err
				}
				return q.ok(list)
			},
		})
	}
	ns := rest[0] + "/" + rest[1]
	if len(rest) == 2 {
		return s.namespaceRoot(q, ns)
	}
	if len(rest) != 3 {
		return errNoRoute
	}
	switch rest[2] {
	case "topics":
		return q.method(map[string]func() error{
			http.MethodGet: func() error { return s.listTopics(q, ns) },
		})
	case "replication":
		return s.namespaceReplication(q, ns)
	case "messageTTL":
		return s.namespaceTTL(q, ns)
	case "retention":
		return s.namespaceRetention(q, ns)
	}
	return errNoRoute
}

func (s *Server) namespaceRoot(q *request, ns string) error {
	return q.method(map[string]func() error{
		http.MethodGet: func() error {
			p, err := s.md.Policies(ns)
			if err != nil {
				return err
			}
			return q.ok(p)
		},
		http.MethodPut: func() error {
			p := defaultPolicies()
			if err := q.readJSON(&p, true); err != nil {
				return err
			}
			return noContentOr(q, s.md.CreateNamespace(ns, p))
		},
		http.MethodDelete: func() error { return s.deleteNamespace(q, ns) },
	})
}

// deleteNamespace refuses while topics exist (NamespacesBase
// .internalDeleteNamespace: 409 "Cannot delete non empty namespace").
func (s *Server) deleteNamespace(q *request, ns string) error {
	if _, err := s.md.Policies(ns); err != nil {
		return err
	}
	topics, err := s.backend.Topics(ns)
	if err != nil {
		return describe(err, "list topics", ns, "")
	}
	parts, err := s.backend.PartitionedTopics(ns)
	if err != nil {
		return describe(err, "list partitioned topics", ns, "")
	}
	if len(topics)+len(parts) > 0 {
		return Errorf(http.StatusConflict, "Cannot delete non empty namespace")
	}
	return noContentOr(q, s.md.DeleteNamespace(ns))
}

func (s *Server) namespaceReplication(q *request, ns string) error {
	return q.method(map[string]func() error{
		http.MethodGet: func() error {
			list, err := s.md.ReplicationClusters(ns)
			if err != nil {
				return err
			}
			return q.ok(list)
		},
		http.MethodPost: func() error {
			var clusters []string
			if err := q.readJSON(&clusters, false); err != nil {
				return err
			}
			for _, c := range clusters {
				if strings.TrimSpace(c) == "" {
					return Errorf(http.StatusPreconditionFailed, "Invalid cluster id: %q", c)
				}
			}
			return noContentOr(q, s.md.SetReplicationClusters(ns, clusters))
		},
	})
}

func (s *Server) namespaceTTL(q *request, ns string) error {
	return q.method(map[string]func() error{
		http.MethodGet: func() error {
			ttl, err := s.md.MessageTTL(ns)
			if err != nil {
				return err
			}
			if ttl == nil {
				return q.noContent()
			}
			return q.ok(*ttl)
		},
		http.MethodPost: func() error {
			var ttl int
			if err := q.readJSON(&ttl, false); err != nil {
				return err
			}
			return noContentOr(q, s.md.SetMessageTTL(ns, ttl))
		},
		http.MethodDelete: func() error { return noContentOr(q, s.md.RemoveMessageTTL(ns)) },
	})
}

func (s *Server) namespaceRetention(q *request, ns string) error {
	return q.method(map[string]func() error{
		http.MethodGet: func() error {
			r, err := s.md.Retention(ns)
			if err != nil {
				return err
			}
			if r == nil {
				// Pulsar answers the broker defaults when the namespace has none.
				return q.ok(RetentionPolicies{})
			}
			return q.ok(*r)
		},
		http.MethodPost: func() error {
			var r RetentionPolicies
			if err := q.readJSON(&r, false); err != nil {
				return err
			}
			return noContentOr(q, s.md.SetRetention(ns, r))
		},
		http.MethodDelete: func() error { return noContentOr(q, s.md.RemoveRetention(ns)) },
	})
}
