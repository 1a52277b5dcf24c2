package chartcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir   = "../helm/subsync"
	serverFile = "../../cmd/subsync/server.go"
	dockerfile = "../../Dockerfile"
)

// installValues are what an operator must set, plus the optional parts
// switched on so that their templates are checked too.
func installValues() map[string]any {
	return map[string]any{
		"cluster":        "east",
		"namespaces":     []any{"shop/eu"},
		"hmacKeys":       map[string]any{"existingSecret": "subsync-hmac"},
		"pulsarToken":    map[string]any{"existingSecret": "subsync-token"},
		"serviceMonitor": map[string]any{"enabled": true},
		// An operator's override of a path the chart owns must not
		// move the config away from the mounts.
		"config": map[string]any{"storeDir": "/elsewhere", "exportInterval": "2s"},
	}
}

// rendered is the chart's output, decoded into the typed objects the
// checks need.
type rendered struct {
	kinds  []string
	sts    appsv1.StatefulSet
	cm     corev1.ConfigMap
	pdb    policyv1.PodDisruptionBudget
	config map[string]any // the ConfigMap's subsync.yaml
}

func render(t *testing.T, values map[string]any) rendered {
	t.Helper()
	objs, err := Render(chartDir, "subsync", values)
	if err != nil {
		t.Fatal(err)
	}
	var r rendered
	for _, o := range objs {
		r.kinds = append(r.kinds, o.Kind)
		var into any
		switch o.Kind {
		case "StatefulSet":
			into = &r.sts
		case "ConfigMap":
			into = &r.cm
		case "PodDisruptionBudget":
			into = &r.pdb
		default:
			continue
		}
		if err := yaml.UnmarshalStrict(o.YAML, into); err != nil {
			t.Fatalf("%s %s (%s) does not decode as a %s: %v\n%s", o.Kind, o.Name, o.Template, o.Kind, err, o.YAML)
		}
	}
	if err := yaml.UnmarshalStrict([]byte(r.cm.Data["subsync.yaml"]), &r.config); err != nil {
		t.Fatalf("the ConfigMap's subsync.yaml: %v\n%s", err, r.cm.Data["subsync.yaml"])
	}
	slices.Sort(r.kinds)
	return r
}

func TestChartRendersTheExpectedObjects(t *testing.T) {
	r := render(t, installValues())
	want := []string{"ConfigMap", "PodDisruptionBudget", "Service", "ServiceMonitor", "StatefulSet"}
	if !slices.Equal(r.kinds, want) {
		t.Errorf("kinds %q, want %q", r.kinds, want)
	}
	v := installValues()
	v["serviceMonitor"] = map[string]any{"enabled": false}
	if r := render(t, v); slices.Contains(r.kinds, "ServiceMonitor") {
		t.Errorf("a ServiceMonitor is rendered with serviceMonitor.enabled=false: %q", r.kinds)
	}
}

// One daemon per cluster: one replica of a StatefulSet, whose pod
// identity (and volume) is never held by two pods at once.
func TestOneWriterWithItsOwnVolume(t *testing.T) {
	r := render(t, installValues())
	if r.sts.Spec.Replicas == nil || *r.sts.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want exactly 1", r.sts.Spec.Replicas)
	}
	if len(r.sts.Spec.VolumeClaimTemplates) != 1 || r.sts.Spec.VolumeClaimTemplates[0].Name != "store" {
		t.Errorf("volumeClaimTemplates %+v, want one named store", r.sts.Spec.VolumeClaimTemplates)
	}
	if r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1 || r.pdb.Spec.MinAvailable != nil {
		t.Errorf("PodDisruptionBudget %+v: want maxUnavailable 1 (minAvailable 1 would block every drain)", r.pdb.Spec)
	}
}

// servedProbePaths reads the daemon's HTTP server source for the paths
// its probes listener registers ("GET /healthz" -> /healthz).
func servedProbePaths(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), serverFile, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
			return true
		}
		if recv, ok := sel.X.(*ast.Ident); !ok || recv.Name != "probes" {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			pattern, _ := strconv.Unquote(lit.Value)
			paths = append(paths, pattern[strings.LastIndex(pattern, " ")+1:])
		}
		return true
	})
	if len(paths) == 0 {
		t.Fatalf("found no probes.Handle/HandleFunc registrations in %s; did the server change shape?", serverFile)
	}
	return paths
}

func TestProbesUseWhatTheServerServes(t *testing.T) {
	served := servedProbePaths(t)
	r := render(t, installValues())
	c := container(t, r.sts)
	metricsPort := addressPort(t, r.config["metricsAddress"])
	for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("%s probe: none or not HTTP", name)
			continue
		}
		if !slices.Contains(served, probe.HTTPGet.Path) {
			t.Errorf("%s probe path %s: the server's probe listener serves only %q", name, probe.HTTPGet.Path, served)
		}
		if got := containerPort(t, c, probe.HTTPGet.Port.String()); got != metricsPort {
			t.Errorf("%s probe port %d, but metricsAddress (where probes are served) is port %d", name, got, metricsPort)
		}
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness checks %s; /readyz would restart a daemon that is only still discovering", c.LivenessProbe.HTTPGet.Path)
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness checks %s, want /readyz", c.ReadinessProbe.HTTPGet.Path)
	}
	apiHost, _, err := net.SplitHostPort(r.config["apiAddress"].(string))
	if err != nil || !net.ParseIP(apiHost).IsLoopback() {
		t.Errorf("apiAddress %v: want the pod's loopback", r.config["apiAddress"])
	}
}

// Every path the configuration names is where the pod mounts it.
func TestMountsMatchTheConfig(t *testing.T) {
	r := render(t, installValues())
	c := container(t, r.sts)
	if r.config["exportInterval"] != "2s" {
		t.Errorf("config.exportInterval not passed through: %v", r.config)
	}
	if got := mountOf(t, c, "store"); got != r.config["storeDir"] {
		t.Errorf("the store volume is mounted at %s, the config's storeDir is %v", got, r.config["storeDir"])
	}
	checkSecretFile(t, r, c, "hmacKeyFile", r.config["hmacKeyFile"], "subsync-hmac")
	auth, _ := r.config["auth"].(map[string]any)
	checkSecretFile(t, r, c, "auth.tokenFile", auth["tokenFile"], "subsync-token")
	configArg := c.Args[slices.Index(c.Args, "--config")+1]
	for _, v := range r.sts.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && path.Join(mountOf(t, c, v.Name), "subsync.yaml") == configArg {
			return
		}
	}
	t.Errorf("--config %s is not subsync.yaml in a mounted ConfigMap (args %q)", configArg, c.Args)
}

func checkSecretFile(t *testing.T, r rendered, c corev1.Container, key string, file any, secret string) {
	t.Helper()
	p, _ := file.(string)
	for _, v := range r.sts.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret && mountOf(t, c, v.Name) == path.Dir(p) {
			// Mounted files belong to root, group fsGroup.
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o040 == 0 {
				t.Errorf("Secret %s is mounted with mode %v: the non-root user cannot read %s through fsGroup", secret, v.Secret.DefaultMode, p)
			}
			return
		}
	}
	t.Errorf("%s %q is not in a mount of Secret %s", key, p, secret)
}

// The pod runs as the image's numbered non-root user.
func TestRunsAsTheImagesNonRootUser(t *testing.T) {
	uid := imageUser(t)
	r := render(t, installValues())
	pod := r.sts.Spec.Template.Spec.SecurityContext
	if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot {
		t.Errorf("pod securityContext %+v: want runAsNonRoot", pod)
	}
	if pod == nil || pod.RunAsUser == nil || *pod.RunAsUser != uid {
		t.Errorf("pod runAsUser %v, the image's USER is %d", pod.RunAsUser, uid)
	}
	if pod == nil || pod.FSGroup == nil {
		t.Error("no fsGroup: the non-root user could not write the store volume")
	}
	sc := container(t, r.sts).SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container securityContext %+v: want allowPrivilegeEscalation false", sc)
	}
}

func TestRequiredValuesAreRequired(t *testing.T) {
	for key, wantMsg := range map[string]string{"cluster": "cluster is required", "hmacKeys": "hmacKeys.existingSecret is required", "namespaces": "namespaces is required"} {
		v := installValues()
		delete(v, key)
		_, err := Render(chartDir, "subsync", v)
		if err == nil || !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("without %s: err %v, want one saying %q", key, err, wantMsg)
		}
	}
}

func container(t *testing.T, sts appsv1.StatefulSet) corev1.Container {
	t.Helper()
	cs := sts.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return cs[0]
}

func mountOf(t *testing.T, c corev1.Container, volume string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	t.Errorf("volume %s is not mounted", volume)
	return ""
}

func containerPort(t *testing.T, c corev1.Container, nameOrNumber string) int {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == nameOrNumber || strconv.Itoa(int(p.ContainerPort)) == nameOrNumber {
			return int(p.ContainerPort)
		}
	}
	t.Errorf("port %s is not a container port", nameOrNumber)
	return -1
}

func addressPort(t *testing.T, addr any) int {
	t.Helper()
	s, _ := addr.(string)
	_, port, err := net.SplitHostPort(s)
	n, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil {
		t.Fatalf("address %v is not host:port", addr)
	}
	return n
}

// imageUser reads the Dockerfile's final USER, checking the image is
// built the way docs/operations.md says.
func imageUser(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stages, err := ParseDockerfile(f)
	if err != nil {
		t.Fatal(err)
	}
	uid, problems := CheckImage(stages)
	for _, p := range problems {
		t.Error(p)
	}
	return uid
}
