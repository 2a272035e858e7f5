package main

import (
	"encoding/json"
	"io"
	"text/template"
)

// placeholderRole stands for the approval roles when the namespace has no
// request to take them from: a valid name, marked TODO, that nobody holds
// until an administrator grants it.
const placeholderRole = "release-approver"

// scaffoldTemplate is the request init prints. Every value it takes from the
// cluster goes through quote (JSON, which YAML reads) or comment (one line).
var scaffoldTemplate = template.Must(template.New("scaffold").Funcs(template.FuncMap{
	"quote": func(s string) (string, error) {
		quoted, err := json.Marshal(s)
		return string(quoted), err
	},
	"comment":         oneLine,
	"placeholderRole": func() string { return placeholderRole },
}).Parse(`# An UpdateRequest for namespace {{.Namespace}}, scaffolded by "kubectl golive init"
# from what runs there now. Fill in what is marked TODO, delete what does not
# change, read every part, then: kubectl create -f <this file>
# The fields are described in "kubectl explain updaterequest.spec" and in docs/.
apiVersion: golive.dev/v1alpha1
kind: UpdateRequest
metadata:
  name: {{quote .Name}}
  namespace: {{quote .Namespace}}
spec:
  # The version being rolled out, shown in columns and notices.{{if not .Release}} TODO{{end}}
  release: {{quote .Release}}
  # What changes, for the approvers and the record.
  description: ""
  # The workloads to update: here and, with the same kind and name, in the
  # staging namespace; in this order, rolled back in reverse. Give each
  # container that changes its new image; delete the containers and the
  # targets that keep theirs (only the images named here change).
  targets:
{{- range .Targets}}
  - kind: {{.Kind}}
    name: {{quote .Name}}
    images:
{{- range .Containers}}
      {{quote .Name}}: ""  # TODO the new image; {{if .Init}}init container, {{end}}runs {{comment .Image}}
{{- end}}
{{- end}}
  staging:
    # The grey environment, updated and verified first. It must carry the
    # label golive.dev/staging-for={{.Namespace}} and run the same targets.
{{- if .StagingNote}}
    # {{if not .Staging}}TODO {{end}}{{comment .StagingNote}}
{{- end}}
    namespace: {{quote .Staging}}
    # The least time from staging verified to the start of production.
    soak: 24h
    verify:
      # Staging's rollout and checks must pass within this time.
      timeout: 10m
      # Jobs that must complete and HTTP checks that must answer, e.g.:
      # jobs:
      # - name: smoke
      #   template: {spec: {backoffLimit: 0, template: {spec: {restartPolicy: Never, containers: [{name: smoke, image: registry.example.com/smoke:1.0}]}}}}
      # http:
      # - name: health
      #   url: http://api.{{with .Staging}}{{comment .}}{{else}}staging{{end}}.svc:8080/healthz
      #   expectStatus: [200]     # the defaults: [200], successThreshold 1, period 10s
  approvals:
    # The roles that approve once staging is verified, and how many distinct
    # people of each. A role is a name RBAC grants the verb approve on
    # approvalroles.golive.dev in this namespace: see "Grant approval roles"
    # in docs/approvals.md.
{{- if .ApprovalsFrom}}
    # Taken from the newest request in the namespace, {{comment .ApprovalsFrom}}.
{{- end}}
    required:
{{- range .Approvals}}
    - role: {{quote .Role}}
      count: {{.Count}}
{{- else}}
    - role: {{placeholderRole}}  # TODO a role your administrator granted
      count: 1
{{- end}}
    # true lets the requester approve their own request (no four eyes).
    allowSelfApproval: false
  window:
    # The GoLiveWindow production changes wait for (kubectl golive windows).
{{- if .WindowNote}}
    # {{if not .Window}}TODO {{end}}{{comment .WindowNote}}
{{- end}}
    name: {{quote .Window}}
    # How long the production update takes; it starts only in an opening
    # with this much left. Default: verify.timeout plus 15m.
    # expectedDuration: 1h
  backup:
    # The workloads' specs are always saved. To snapshot volumes too, select
    # their PersistentVolumeClaims (docs/backup.md):
    # volumeClaimSelector: {matchLabels: {app: my-app}}
    # volumeSnapshotClassName: csi-snapclass
    # quiesce: ScaleToZero    # stop the targets while snapshotting; None keeps them running
    # How long snapshots and saved specs are kept after the request ends.
    retention: 168h
  verify:
    # Production's rollout and checks must pass within this time, else golive
    # rolls back. jobs and http as for staging.
    timeout: 15m
{{- with .Acceptance}}
  # The business side's functional test once production is verified, as in
  # the newest request; delete it for none.
  acceptance:
    role: {{quote .Role}}
{{- if .Timeout.Duration}}
    timeout: {{.Timeout.Duration}}
{{- end}}
{{- if .OnTimeout}}
    onTimeout: {{.OnTimeout}}    # Accept, or RollBack
{{- end}}
{{- else}}
  # The business side's functional test once production is verified:
  # acceptance:
  #   role: business-owner
  #   timeout: 24h
  #   onTimeout: Accept    # or RollBack
{{- end}}
  rollback:
    # On rollback, restore the snapshotted volumes (Auto) or leave them (Never).
    restoreData: Auto
  # Where notices of phase changes and the outcome go (docs/notifications.md):
  # notify:
  #   webhooks:
  #   - url: https://hooks.example.com/services/T000/B000
  #     format: Slack
`))

// writeScaffold writes the commented request of s.
func writeScaffold(out io.Writer, s scaffold) error {
	return scaffoldTemplate.Execute(out, s)
}
