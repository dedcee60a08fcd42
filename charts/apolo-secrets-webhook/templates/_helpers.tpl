{{- define "asw.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "asw.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "asw.labels" -}}
app.kubernetes.io/name: {{ include "asw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "asw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "asw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "asw.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "asw.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* --username-prefix of both the webhook and the API: identity.usernamePrefixes, or the old api.usernamePrefix. */}}
{{- define "asw.usernamePrefix" -}}
{{- $prefixes := .Values.identity.usernamePrefixes -}}
{{- $old := .Values.api.usernamePrefix -}}
{{- if and $prefixes $old -}}
{{- fail "set identity.usernamePrefixes only: api.usernamePrefix is its old name (one prefix), and both are set" -}}
{{- end -}}
{{- if $prefixes -}}{{ join "," $prefixes }}{{- else -}}{{ $old }}{{- end -}}
{{- end -}}

{{/* The Secret holding the serving certificate (and, self-managed, the CA). */}}
{{- define "asw.tlsSecretName" -}}
{{- printf "%s-tls" (include "asw.fullname" .) -}}
{{- end -}}

{{/* The Service's DNS names: what the API server dials and the certificate must name. */}}
{{- define "asw.dnsNames" -}}
{{- $svc := include "asw.fullname" . -}}
{{- $names := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) -}}
{{- concat $names .Values.certificates.extraDnsNames | join "," -}}
{{- end -}}

{{/* Namespaces never intercepted: the webhook's own (its pods must start while it is down) and the system ones. */}}
{{- define "asw.excludedNamespaces" -}}
{{- concat (list .Release.Namespace) .Values.webhook.excludedNamespaces | uniq | toJson -}}
{{- end -}}
