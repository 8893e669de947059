{{- define "stuf-bridge.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stuf-bridge.selector" -}}
app.kubernetes.io/name: stuf-bridge
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "stuf-bridge.labels" -}}
{{ include "stuf-bridge.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* ConfigMap names carry a hash of their content, as Kustomize's configMapGenerator does: a change rolls the pods */}}
{{- define "stuf-bridge.configName" -}}
{{ include "stuf-bridge.fullname" . }}-config-{{ .Values.config | sha256sum | trunc 10 }}
{{- end -}}

{{- define "stuf-bridge.mappingsName" -}}
{{ include "stuf-bridge.fullname" . }}-mappings-{{ toJson .Values.mappings | sha256sum | trunc 10 }}
{{- end -}}
