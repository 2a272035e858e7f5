{{/*
Names and labels shared by every template.
*/}}

{{/* The chart's name, or nameOverride. */}}
{{- define "golive.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride, else the release name
when it already holds the chart's name (a release called golive gives the
names config/ uses), else <release>-<chart>. Shortened so that the longest
suffix (-webhook-server-cert) still fits into 63 characters.
*/}}
{{- define "golive.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 43 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 43 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 43 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "golive.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "golive.labels" -}}
helm.sh/chart: {{ include "golive.chart" . }}
{{ include "golive.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: golive
{{- end }}

{{/* The labels the Services, the PodDisruptionBudget and the Deployment select the manager's Pods by. */}}
{{- define "golive.selectorLabels" -}}
app.kubernetes.io/name: {{ include "golive.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The manager's ServiceAccount. */}}
{{- define "golive.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "golive.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Service the API server reaches the admission webhooks through; the manager's certificate is issued for it. */}}
{{- define "golive.webhookServiceName" -}}
{{- printf "%s-webhook-service" (include "golive.fullname" .) }}
{{- end }}

{{/* The Secret holding the webhook server's certificate, written by the manager or by cert-manager. */}}
{{- define "golive.webhookCertSecretName" -}}
{{- printf "%s-webhook-server-cert" (include "golive.fullname" .) }}
{{- end }}

{{/* cert-manager's Certificate for the webhook server. */}}
{{- define "golive.certificateName" -}}
{{- printf "%s-serving-cert" (include "golive.fullname" .) }}
{{- end }}

{{/* The Secret holding the key that signs the approval ledger; the manager creates it. */}}
{{- define "golive.ledgerKeySecretName" -}}
{{- default (printf "%s-ledger-key" (include "golive.fullname" .)) .Values.ledger.keySecretName }}
{{- end }}

{{/* The Secret holding the key that signs the ReleaseRecords. */}}
{{- define "golive.recordSigningKeySecretName" -}}
{{- default (printf "%s-record-signing-key" (include "golive.fullname" .)) .Values.records.signingKeySecretName }}
{{- end }}

{{/* The namespace the ReleaseRecords are kept in. */}}
{{- define "golive.archiveNamespace" -}}
{{- default .Release.Namespace .Values.records.archiveNamespace }}
{{- end }}

{{/* The Service in front of the metrics endpoint. */}}
{{- define "golive.metricsServiceName" -}}
{{- printf "%s-metrics-service" (include "golive.fullname" .) }}
{{- end }}

{{/* The manager's image: repository:tag, tag defaulting to the chart's appVersion, or repository@digest. */}}
{{- define "golive.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Whether the manager runs in the cluster, installed by this chart. */}}
{{- define "golive.inCluster" -}}
{{- if not .Values.externalManager.enabled }}true{{ end }}
{{- end }}

{{/*
A webhook's clientConfig (called by the generated webhook templates with
"root" and the webhook's "path"): the chart's webhook Service, or, for a
manager out of cluster, externalManager.webhookURL with the path appended.
*/}}
{{- define "golive.webhookClientConfig" -}}
{{- if .root.Values.externalManager.enabled -}}
url: {{ printf "%s%s" (trimSuffix "/" .root.Values.externalManager.webhookURL) .path | quote }}
{{- else -}}
service:
  name: {{ include "golive.webhookServiceName" .root }}
  namespace: {{ .root.Release.Namespace }}
  path: {{ .path | quote }}
{{- end }}
{{- end }}

{{/* Annotations of the webhook configurations: cert-manager's CA injection when it issues the certificate. */}}
{{- define "golive.webhookAnnotations" -}}
{{- if .Values.certManager.enabled -}}
cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "golive.certificateName" .) }}
{{- end }}
{{- end }}

{{/* Combinations of values the schema cannot refuse. */}}
{{- define "golive.validate" -}}
{{- if and .Values.externalManager.enabled (not .Values.externalManager.webhookURL) }}
{{- fail "externalManager.enabled needs externalManager.webhookURL: the API server must reach the manager's webhooks somewhere" }}
{{- end }}
{{- if and .Values.externalManager.enabled .Values.certManager.enabled }}
{{- fail "certManager.enabled does not work with externalManager.enabled: cert-manager's certificate names the in-cluster Service, which an external manager does not serve; the external manager issues its own (--webhook-dns-names)" }}
{{- end }}
{{- end }}

{{/*
The namespaces where rbac.scope=namespaces grants the manager its writes, as a
JSON list: rbac.namespaces, and the namespaces labelled golive.dev/managed=true
when helm installs or upgrades (lookup reads the cluster; `helm template`
sees none). Sorted and without duplicates, so that renderings compare.
*/}}
{{- define "golive.managedNamespaces" -}}
{{- $names := list }}
{{- range .Values.rbac.namespaces }}
{{- $names = append $names . }}
{{- end }}
{{- range (lookup "v1" "Namespace" "" "").items }}
{{- if eq (get (.metadata.labels | default dict) "golive.dev/managed") "true" }}
{{- $names = append $names .metadata.name }}
{{- end }}
{{- end }}
{{- $names | uniq | sortAlpha | toJson }}
{{- end }}

{{/* The console's Deployment, Service, Ingress and ServiceAccount. */}}
{{- define "golive.consoleName" -}}
{{- printf "%s-console" (include "golive.fullname" .) }}
{{- end }}

{{/* The console's Pods: apart from the manager's, whose selector must not match them. */}}
{{- define "golive.consoleSelectorLabels" -}}
app.kubernetes.io/name: {{ include "golive.name" . }}-console
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "golive.consoleLabels" -}}
helm.sh/chart: {{ include "golive.chart" . }}
{{ include "golive.consoleSelectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: golive
app.kubernetes.io/component: console
{{- end }}
