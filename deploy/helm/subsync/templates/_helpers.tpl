{{/* Names and labels shared by every object of the release. */}}
{{- define "subsync.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "subsync.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "subsync.labels" -}}
{{ include "subsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
subsync/cluster: {{ .Values.cluster | quote }}
{{- end -}}

{{/* Where the pod mounts what; the ConfigMap's paths must agree. */}}
{{- define "subsync.storeDir" -}}/var/lib/subsync{{- end -}}
{{- define "subsync.keysDir" -}}/etc/subsync/keys{{- end -}}
{{- define "subsync.tokenDir" -}}/etc/subsync/token{{- end -}}
{{- define "subsync.configDir" -}}/etc/subsync/config{{- end -}}

{{/* The daemon's configuration: .Values.config, then the chart's own keys
     over it, so that the paths and addresses always match the pod's
     mounts and probes. */}}
{{- define "subsync.config" -}}
{{- if not .Values.namespaces -}}
{{- fail "namespaces is required: at least one tenant/namespace" -}}
{{- end -}}
{{- $c := dict
  "cluster" (required "cluster is required: the local Pulsar cluster's name" .Values.cluster)
  "serviceUrl" .Values.serviceUrl
  "webServiceUrl" .Values.webServiceUrl
  "namespaces" .Values.namespaces
  "hmacKeyFile" (printf "%s/%s" (include "subsync.keysDir" .) .Values.hmacKeys.key)
  "storeDir" (include "subsync.storeDir" .)
  "metricsAddress" (printf ":%d" (int .Values.ports.metrics))
  "apiAddress" (printf "127.0.0.1:%d" (int .Values.ports.api)) -}}
{{- if .Values.pulsarToken.existingSecret -}}
{{- $_ := set $c "auth" (dict "method" "token" "tokenFile" (printf "%s/%s" (include "subsync.tokenDir" .) .Values.pulsarToken.key)) -}}
{{- end -}}
{{- toYaml (mergeOverwrite (deepCopy .Values.config) $c) -}}
{{- end -}}
