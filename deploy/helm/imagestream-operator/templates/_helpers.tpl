{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "imagestream-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name; unique per release, so cluster-scoped names never collide. */}}
{{- define "imagestream-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "imagestream-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "imagestream-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "imagestream-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "imagestream-operator.labels" -}}
helm.sh/chart: {{ include "imagestream-operator.chart" . }}
{{ include "imagestream-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "imagestream-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "imagestream-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "imagestream-operator.leaseName" -}}
{{- default (include "imagestream-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "imagestream-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespaced permissions of the enabled controllers, exactly the API calls the code makes
(docs/install.md, RBAC). Bound cluster-wide, or per watched namespace with RoleBindings.
*/}}
{{- define "imagestream-operator.namespacedRules" -}}
{{- $c := .Values.controllers }}
{{- $import := has "import" $c }}
{{- $istag := has "imagestreamtag" $c }}
{{- $trigger := has "trigger" $c }}
{{- $streams := list }}
{{- if $import }}
{{- /* src/imports: informer, fresh read before a status write, the dockerRepositoryCheck annotation (merge patch). */}}
{{- $streams = concat $streams (list "get" "list" "watch" "patch") }}
{{- end }}
{{- if $trigger }}
{{- /* src/triggers: reads tags from the stream informer. */}}
{{- $streams = concat $streams (list "list" "watch") }}
{{- end }}
{{- if $istag }}
{{- /* src/istags: ImageStreamTag edits merge-patch the stream's spec.tags; a tag of a missing stream creates it. */}}
{{- $streams = concat $streams (list "get" "list" "watch" "create" "patch") }}
{{- end }}
{{- $registry := .Values.integratedRegistry.enabled }}
{{- $hooks := include "imagestream-operator.hooksEnabled" . }}
{{- if $registry }}
{{- /* src/push (integrated registry): a push to a missing stream creates it; catch-up lists streams. */}}
{{- $streams = concat $streams (list "get" "list" "watch" "create") }}
{{- end }}
{{- $admission := .Values.admission.enabled }}
{{- if $admission }}
{{- /* src/admission: image lookup reads the stream informer; oc import-image reads the stream fresh, creates it or merge-patches its spec (guarded by resourceVersion). */}}
{{- $streams = concat $streams (list "get" "list" "watch" "create" "patch") }}
{{- end }}
{{- if $hooks }}
{{- /* src/receivers: tag requests are a guarded merge patch of the stream's annotations. */}}
{{- $streams = concat $streams (list "get" "list" "watch" "patch") }}
{{- end }}
{{- if $streams }}
- apiGroups: ["image.openshift.io"]
  resources: ["imagestreams"]
  verbs: {{ $streams | uniq | sortAlpha | toJson | replace "," ", " }}
{{- end }}
{{- if or $import $istag $registry $admission }}
- apiGroups: ["image.openshift.io"]
  resources: ["imagestreams/status"]
  verbs: ["update"]
{{- end }}
{{- if $admission }}
{{- /* Stored ImageStreamImports are answers: an informer sees them, the leader deletes them. */}}
- apiGroups: ["image.openshift.io"]
  resources: ["imagestreamimports"]
  verbs: ["list", "watch", "delete"]
{{- end }}
{{- if $istag }}
{{- /* Informer, create, PUT, finalizer merge patch, delete of tags gone from the stream. */}}
- apiGroups: ["image.openshift.io"]
  resources: ["imagestreamtags"]
  verbs: ["list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["image.openshift.io"]
  resources: ["imagestreamtags/status"]
  verbs: ["update"]
{{- /* ImageStreamTags are owned by their stream with blockOwnerDeletion, which clusters enforcing
owner-reference permissions (OwnerReferencesPermissionEnforcement) authorize as this. */}}
- apiGroups: ["image.openshift.io"]
  resources: ["imagestreams/finalizers"]
  verbs: ["update"]
{{- end }}
{{- if $hooks }}
{{- /* src/receivers: Receiver objects (informer) and their status (URL, Ready). */}}
- apiGroups: ["imagestream-operator.io"]
  resources: ["receivers"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["imagestream-operator.io"]
  resources: ["receivers/status"]
  verbs: ["update"]
{{- end }}
{{- if or $import $istag $admission $hooks }}
{{- /* Pull secrets and receiver tokens: informers with type field selectors; RBAC cannot narrow by type. Never get, never write. */}}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list", "watch"]
{{- end }}
{{- if $trigger }}
{{- /* The workload kinds of src/triggers/kinds.ts (templates/_trigger-rules.tpl is generated from it). */}}
{{ include "imagestream-operator.triggerRules" . }}
{{- end }}
{{- if or $c $registry }}
{{- /* src/runtime/events.ts: events.k8s.io/v1 Events; repeats update the series by patch. */}}
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
{{- end }}

{{/* Cross-namespace tag sources, and oc import-image as the requesting user, are authorized with
SubjectAccessReviews (cluster-scoped). */}}
{{- define "imagestream-operator.needsAccessReview" -}}
{{- if or (has "import" .Values.controllers) (has "trigger" .Values.controllers) .Values.integratedRegistry.enabled .Values.receivers.enabled .Values.admission.enabled }}true{{ end }}
{{- end }}

{{/* ---- Integrated registry (docs/push.md) ---- */}}
{{- define "imagestream-operator.registryName" -}}
{{- printf "%s-registry" (include "imagestream-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The operator's hooks Service: token endpoint, notification endpoint, receivers. */}}
{{- define "imagestream-operator.hooksName" -}}
{{- printf "%s-hooks" (include "imagestream-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* In-cluster host of the integrated registry: <service>.<namespace>.svc:<port>. */}}
{{- define "imagestream-operator.registryHost" -}}
{{- printf "%s.%s.svc:%d" (include "imagestream-operator.registryName" .) .Release.Namespace (int .Values.integratedRegistry.service.port) }}
{{- end }}

{{/* The hooks listener runs for the integrated registry and for receivers. */}}
{{- define "imagestream-operator.hooksEnabled" -}}
{{- if or .Values.integratedRegistry.enabled .Values.receivers.enabled }}true{{ end }}
{{- end }}

{{/* The chart runs the integrated registry itself. */}}
{{- define "imagestream-operator.registryDeployed" -}}
{{- if and .Values.integratedRegistry.enabled .Values.integratedRegistry.deploy }}true{{ end }}
{{- end }}

{{/* --integrated-registry-url: the value, else the chart's registry Service. */}}
{{- define "imagestream-operator.integratedRegistryUrl" -}}
{{- if .Values.integratedRegistry.enabled }}{{ default (printf "http://%s" (include "imagestream-operator.registryHost" .)) .Values.integratedRegistry.url }}{{ end }}
{{- end }}

{{/* --local-registry: the value, else the integrated registry's Service when it is enabled. */}}
{{- define "imagestream-operator.localRegistry" -}}
{{- if .Values.localRegistry }}{{ .Values.localRegistry }}{{ else if .Values.integratedRegistry.enabled }}{{ regexReplaceAll "^https?://([^/]+).*$" (include "imagestream-operator.integratedRegistryUrl" .) "${1}" }}{{ end }}
{{- end }}

{{- define "imagestream-operator.tokenRealm" -}}
{{- default (printf "http://%s.%s.svc:%d/registry/token" (include "imagestream-operator.hooksName" .) .Release.Namespace (int .Values.hooks.service.port)) .Values.integratedRegistry.auth.realm }}
{{- end }}

{{/* Objects the operator owns for the registry: its signing key (Secret) and published certificates (ConfigMap). */}}
{{- define "imagestream-operator.tokenKeySecret" -}}
{{- printf "%s-token-key" (include "imagestream-operator.registryName" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "imagestream-operator.tokenCaConfigMap" -}}
{{- printf "%s-token-ca" (include "imagestream-operator.registryName" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "imagestream-operator.notificationsSecret" -}}
{{- printf "%s-notifications" (include "imagestream-operator.registryName" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Its own app.kubernetes.io/name, so the operator's selectors never match registry pods. */}}
{{- define "imagestream-operator.registrySelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-registry" (include "imagestream-operator.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "imagestream-operator.registryLabels" -}}
helm.sh/chart: {{ include "imagestream-operator.chart" . }}
{{ include "imagestream-operator.registrySelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: registry
app.kubernetes.io/part-of: {{ include "imagestream-operator.name" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* ---- Admission webhooks (docs/admission.md) ---- */}}
{{/* The Service kube-apiserver calls the webhooks through; the serving certificate names it. */}}
{{- define "imagestream-operator.admissionName" -}}
{{- printf "%s-webhook" (include "imagestream-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret of the webhooks' certificates: the operator's own, or cert-manager's Certificate's. */}}
{{- define "imagestream-operator.admissionSecret" -}}
{{- printf "%s-webhook-certs" (include "imagestream-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "imagestream-operator.admissionCertManager" -}}
{{- if and .Values.admission.enabled (eq .Values.admission.certificates.source "certManager") }}true{{ end }}
{{- end }}

{{/* clientConfig of one webhook: (list . "/admission/<webhook>"). */}}
{{- define "imagestream-operator.admissionClientConfig" -}}
{{- $root := index . 0 -}}
service:
  namespace: {{ $root.Release.Namespace }}
  name: {{ include "imagestream-operator.admissionName" $root }}
  port: {{ $root.Values.admission.service.port }}
  path: {{ index . 1 }}
{{- end }}

{{/* The release namespace and kube-system never wait for the operator (no deadlock while it is
down); with a namespace list, only those namespaces call it. Same as webhookNamespaceSelector. */}}
{{- define "imagestream-operator.admissionNamespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: {{ list .Release.Namespace "kube-system" | uniq | sortAlpha | toJson }}
{{- if .Values.namespaces }}
  - key: kubernetes.io/metadata.name
    operator: In
    values: {{ .Values.namespaces | uniq | sortAlpha | toJson }}
{{- end }}
{{- end }}
