// Package chartcheck checks subsync's deployment files without a cluster
// or a Docker engine: it renders the Helm chart with Helm's own Go
// packages (the same template engine `helm template` uses) and checks the
// objects it produces against the daemon (the paths its HTTP server
// serves, the store directory in the generated configuration) and against
// the Dockerfile (multi-stage, CGO_ENABLED=0, a numbered non-root USER).
// It also reads the systemd unit for the settings the daemon relies on.
//
// It is a module of its own so that the daemon's module does not depend
// on Helm and Kubernetes. Run it with `make chart-check`.
package chartcheck
