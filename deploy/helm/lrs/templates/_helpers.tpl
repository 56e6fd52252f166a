{{/* lrs.name is the chart name, or nameOverride. */}}
{{- define "lrs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* lrs.fullname names every resource: release-name, or fullnameOverride. */}}
{{- define "lrs.fullname" -}}
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

{{/* lrs.labels are the labels of every resource. */}}
{{- define "lrs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lrs.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: digione
{{- end }}

{{/* lrs.selectorLabels select the pods of a release. */}}
{{- define "lrs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lrs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* lrs.serviceAccountName is the pods' ServiceAccount. */}}
{{- define "lrs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lrs.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* lrs.secretName is the Secret the pods read: existingSecret or the chart's. */}}
{{- define "lrs.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "lrs.fullname" .) }}
{{- end }}

{{/* lrs.image is repository:tag. */}}
{{- define "lrs.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* lrs.replicated is true when more than one pod may run. */}}
{{- define "lrs.replicated" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/* lrs.check fails the render on settings that cannot work. */}}
{{- define "lrs.check" -}}
{{- if not (has .Values.config.store (list "mongo" "sqlite")) }}
{{- fail "config.store must be mongo or sqlite" }}
{{- end }}
{{- if and (eq .Values.config.store "mongo") (not .Values.secrets.existingSecret) (not .Values.secrets.mongoURI) }}
{{- fail "config.store mongo needs secrets.mongoURI (or secrets.existingSecret with LRS_MONGO_URI)" }}
{{- end }}
{{- if and (eq .Values.config.store "sqlite") (include "lrs.replicated" .) }}
{{- fail "config.store sqlite is one process on one volume: set replicaCount 1 and autoscaling.enabled false, or use mongo" }}
{{- end }}
{{- if and .Values.config.kafkaTopic .Values.config.kafkaTopicTemplate }}
{{- fail "config.kafkaTopic and config.kafkaTopicTemplate: set one, not both" }}
{{- end }}
{{- end }}
