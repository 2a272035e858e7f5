// Command chartgen renders the parts of the Helm chart that config/ already
// holds into named templates, so that the chart never drifts from them: the
// rules of every role (config/rbac; role.yaml is controller-gen's output from
// the kubebuilder:rbac markers), the admission webhooks
// (config/webhook/manifests.yaml, from the kubebuilder:webhook markers) and
// the admission policy (config/admission). The chart's own templates decide
// names, namespaces, labels and where the webhooks are reached. `make
// manifests` runs it and `make verify` fails when its output is stale.
//
// Usage: chartgen -out FILE MANIFEST...
//
// Each manifest may hold several documents; every document must be of a kind
// chartgen knows, so that a new generated object cannot be left out of the
// chart silently.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Names of the templates; charts/golive/templates include them.
const (
	// clusterRoleRulesPrefix and roleRulesPrefix are followed by the role's
	// name in the manifests: golive.generated.clusterRoleRules.golive-manager.
	clusterRoleRulesPrefix     = "golive.generated.clusterRoleRules."
	roleRulesPrefix            = "golive.generated.roleRules."
	mutatingNameTemplate       = "golive.generated.mutatingWebhookConfigurationName"
	mutatingWebhooksTemplate   = "golive.generated.mutatingWebhooks"
	validatingNameTemplate     = "golive.generated.validatingWebhookConfigurationName"
	validatingWebhooksTemplate = "golive.generated.validatingWebhooks"
	// admissionPolicySpecPrefix and admissionBindingSpecPrefix are followed by
	// the object's name in the manifests: golive.generated.admissionPolicySpec.golive-status-writers.
	admissionPolicySpecPrefix  = "golive.generated.admissionPolicySpec."
	admissionBindingSpecPrefix = "golive.generated.admissionPolicyBindingSpec."
	// webhookClientConfigTemplate is the chart's own: a webhook's clientConfig
	// for a path (the chart's Service, or a URL for a manager out of cluster).
	webhookClientConfigTemplate = "golive.webhookClientConfig"
)

const (
	// managerNamespaceInManifests is the namespace config/ installs golive
	// into; the chart puts what the manifests grant there into the release's.
	managerNamespaceInManifests = "golive-system"
	// webhookClientConfigIndent is the column of a webhook's clientConfig fields.
	webhookClientConfigIndent = 4
)

func main() {
	out := flag.String("out", "", "the template file to write")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: chartgen -out FILE MANIFEST...")
		os.Exit(2)
	}
	var docs []document
	for _, path := range flag.Args() {
		in, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		fileDocs, err := decodeDocuments(in)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		for i := range fileDocs {
			fileDocs[i].source = path
		}
		docs = append(docs, fileDocs...)
	}
	rendered, err := render(docs)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(*out, rendered, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "chartgen: %v\n", err)
	os.Exit(1)
}

var (
	// objectName is a DNS subdomain, the form of a cluster-scoped object's name.
	objectName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// webhookPath is what kubebuilder:webhook markers produce.
	webhookPath = regexp.MustCompile(`^/[A-Za-z0-9._/-]*$`)
)

// document is one manifest of an input file.
type document struct {
	source string
	object map[string]any
}

func (d document) kind() string { return stringField(d.object, "kind") }

func (d document) metadata(field string) string {
	metadata, _ := d.object["metadata"].(map[string]any)
	return stringField(metadata, field)
}

func (d document) String() string {
	return fmt.Sprintf("%s %q in %s", d.kind(), d.metadata("name"), d.source)
}

// decodeDocuments splits a multi-document YAML file, skipping empty documents.
func decodeDocuments(in []byte) ([]document, error) {
	decoder := yaml.NewDecoder(bytes.NewReader(in))
	var docs []document
	for {
		var object map[string]any
		err := decoder.Decode(&object)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if object != nil {
			docs = append(docs, document{object: object})
		}
	}
}

// template is one named template of the output.
type template struct {
	name    string
	comment string
	body    string
}

// render turns the documents into named templates, in the order of the inputs.
func render(docs []document) ([]byte, error) {
	var templates []template
	seen := map[string]bool{}
	add := func(t template) error {
		if seen[t.name] {
			return fmt.Errorf("more than one input for template %s", t.name)
		}
		seen[t.name] = true
		templates = append(templates, t)
		return nil
	}
	policies := map[string]bool{}
	var bindings []document
	for _, doc := range docs {
		var err error
		switch name := doc.metadata("name"); doc.kind() {
		case "ClusterRole":
			err = rulesTemplate(doc, clusterRoleRulesPrefix+name, "The rules of the ClusterRole "+name+".", add)
			if err == nil && name == managerRole {
				err = scopedRulesTemplates(doc, add)
			}
		case "Role":
			// The chart installs golive into the release's namespace; the
			// manifests can only name the namespace config/ installs it into.
			if namespace := doc.metadata("namespace"); namespace != managerNamespaceInManifests {
				return nil, fmt.Errorf("%s: the chart can only grant namespaced rules in golive's own namespace (%s in the manifests), not in %q",
					doc, managerNamespaceInManifests, namespace)
			}
			err = rulesTemplate(doc, roleRulesPrefix+name, "The rules of the Role "+name+" in golive's own namespace (the release's).", add)
		case "MutatingWebhookConfiguration":
			err = webhookTemplates(doc, mutatingNameTemplate, mutatingWebhooksTemplate, "mutating", add)
		case "ValidatingWebhookConfiguration":
			err = webhookTemplates(doc, validatingNameTemplate, validatingWebhooksTemplate, "validating", add)
		case "ValidatingAdmissionPolicy":
			policies[name] = true
			err = specTemplate(doc, admissionPolicySpecPrefix+name, "The spec of the ValidatingAdmissionPolicy "+name+".", nil, add)
		case "ValidatingAdmissionPolicyBinding":
			bindings = append(bindings, doc)
			// The chart names the policy itself, so the reference is left out.
			err = specTemplate(doc, admissionBindingSpecPrefix+name, "The spec of the ValidatingAdmissionPolicyBinding "+name+", without its policyName.",
				[]string{"policyName"}, add)
		default:
			return nil, fmt.Errorf("%s: chartgen does not know where this kind goes in the chart", doc)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, binding := range bindings {
		spec, _ := binding.object["spec"].(map[string]any)
		if policy := stringField(spec, "policyName"); !policies[policy] {
			return nil, fmt.Errorf("%s: binds policy %q, which is not among the inputs", binding, policy)
		}
	}

	var out strings.Builder
	out.WriteString("{{- /*\nCode generated by hack/chartgen; DO NOT EDIT.\n" +
		"`make manifests` writes it from the files below and `make verify` fails when it is stale.\n")
	for _, source := range sources(docs) {
		fmt.Fprintf(&out, "  %s\n", source)
	}
	out.WriteString("*/ -}}\n")
	for _, t := range templates {
		fmt.Fprintf(&out, "\n{{- /* %s */ -}}\n{{- define %q -}}\n%s\n{{- end }}\n", t.comment, t.name, strings.TrimRight(t.body, "\n"))
	}
	return []byte(out.String()), nil
}

// sources lists the input files in the order first seen.
func sources(docs []document) []string {
	var files []string
	seen := map[string]bool{}
	for _, doc := range docs {
		if !seen[doc.source] {
			seen[doc.source] = true
			files = append(files, doc.source)
		}
	}
	return files
}

// rulesTemplate adds a template holding the rules of a Role or ClusterRole.
func rulesTemplate(doc document, name, comment string, add func(template) error) error {
	rules, ok := doc.object["rules"].([]any)
	if !ok || len(rules) == 0 {
		return fmt.Errorf("%s: no rules", doc)
	}
	body, err := encode(rules)
	if err != nil {
		return fmt.Errorf("%s: %w", doc, err)
	}
	return add(template{name: name, comment: comment, body: body})
}

// specTemplate adds a template holding the document's spec, without the
// fields in omit.
func specTemplate(doc document, name, comment string, omit []string, add func(template) error) error {
	spec, ok := doc.object["spec"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: no spec", doc)
	}
	trimmed := map[string]any{}
	for key, value := range spec {
		trimmed[key] = value
	}
	for _, key := range omit {
		delete(trimmed, key)
	}
	body, err := encode(trimmed)
	if err != nil {
		return fmt.Errorf("%s: %w", doc, err)
	}
	body = templateIdentities(body)
	// Anywhere else, config/'s namespace would install as it is, whatever
	// namespace the release and its archive are in.
	if strings.Contains(body, managerNamespaceInManifests) {
		return fmt.Errorf("%s: names %s other than in golive's ServiceAccount or as the archive's namespace selector, which the chart cannot replace",
			doc, managerNamespaceInManifests)
	}
	return add(template{name: name, comment: comment, body: body})
}

// identities are the values of config/ that name who golive is, who may
// break glass and where the records are kept, with what the chart puts in
// their place: the release's ServiceAccount, the value breakGlass.group and
// the archive namespace (records.archiveNamespace, by default the release's).
// Each is the whole value of a key: the first two CEL string literals, the
// whole expression of a policy variable; the third, a namespace selector's
// label of the namespace's name, which only the archive's policies use.
// values.schema.json keeps quotes and backslashes out of the values.
var identities = []struct{ key, literal, template string }{
	{"expression", `'system:serviceaccount:golive-system:golive'`, `'system:serviceaccount:{{ .Release.Namespace }}:{{ include "golive.serviceAccountName" . }}'`},
	{"expression", `'golive:break-glass'`, `{{ .Values.breakGlass.group | squote }}`},
	{"kubernetes.io/metadata.name", managerNamespaceInManifests, `{{ include "golive.archiveNamespace" . }}`},
}

// templateIdentities replaces the scalars of an encoded body that are an
// identity literal by a double-quoted scalar of its template (encode has
// refused template delimiters of the manifests, so these are the only ones).
// The keys are never at the start of the body: variables and selectors are
// nested.
func templateIdentities(body string) string {
	for _, identity := range identities {
		encoded, err := encode(identity.literal)
		if err != nil {
			panic("encoding a string: " + err.Error())
		}
		body = strings.ReplaceAll(body, " "+identity.key+": "+strings.TrimSuffix(encoded, "\n")+"\n", " "+identity.key+`: "`+identity.template+"\"\n")
	}
	return body
}

// webhookTemplates adds the configuration's name and its webhooks. The
// chart decides where the API server reaches them (its Service, or a URL for
// a manager out of cluster), so each webhook's clientConfig is replaced by a
// call to the chart's webhookClientConfig template with the webhook's path.
func webhookTemplates(doc document, nameTemplate, webhooksTemplate, kind string, add func(template) error) error {
	name := doc.metadata("name")
	if !objectName.MatchString(name) {
		return fmt.Errorf("%s: not a valid object name", doc)
	}
	// The manager injects the CA into configurations of exactly these names
	// and its RBAC names them, so the chart keeps them as they are.
	err := add(template{
		name:    nameTemplate,
		comment: "The name of the " + kind + " webhook configuration, which the manager's CA injection and RBAC name.",
		body:    name,
	})
	if err != nil {
		return err
	}
	webhooks, ok := doc.object["webhooks"].([]any)
	if !ok || len(webhooks) == 0 {
		return fmt.Errorf("%s: no webhooks", doc)
	}
	var items []string
	for i, entry := range webhooks {
		webhook, ok := entry.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: webhook %d is not an object", doc, i)
		}
		path, err := servicePath(webhook)
		if err != nil {
			return fmt.Errorf("%s: webhook %q: %w", doc, stringField(webhook, "name"), err)
		}
		rest := map[string]any{}
		for key, value := range webhook {
			if key != "clientConfig" {
				rest[key] = value
			}
		}
		encoded, err := encode(rest)
		if err != nil {
			return fmt.Errorf("%s: %w", doc, err)
		}
		item := fmt.Sprintf("clientConfig:\n  {{- include %q (dict \"root\" $ \"path\" %q) | nindent %d }}\n%s",
			webhookClientConfigTemplate, path, webhookClientConfigIndent, encoded)
		items = append(items, listItem(item))
	}
	return add(template{
		name:    webhooksTemplate,
		comment: "The " + kind + " webhooks, from the kubebuilder:webhook markers; the chart supplies each clientConfig.",
		body:    strings.Join(items, "\n"),
	})
}

// servicePath is the path of a webhook's service clientConfig, the only
// part of it the chart keeps; anything else there would be lost silently.
func servicePath(webhook map[string]any) (string, error) {
	clientConfig, ok := webhook["clientConfig"].(map[string]any)
	if !ok {
		return "", errors.New("no clientConfig")
	}
	service, ok := clientConfig["service"].(map[string]any)
	if !ok || len(clientConfig) != 1 {
		return "", errors.New("clientConfig must name a service and nothing else")
	}
	for key := range service {
		if key != "name" && key != "namespace" && key != "path" {
			return "", fmt.Errorf("clientConfig.service.%s is not supported by the chart", key)
		}
	}
	path := stringField(service, "path")
	if !webhookPath.MatchString(path) {
		return "", fmt.Errorf("clientConfig.service.path %q is not a plain absolute path", path)
	}
	return path, nil
}

// listItem indents a YAML mapping as one item of a block sequence.
func listItem(mapping string) string {
	lines := strings.Split(strings.TrimRight(mapping, "\n"), "\n")
	for i, line := range lines {
		if i == 0 {
			lines[i] = "- " + line
		} else {
			lines[i] = "  " + line
		}
	}
	return strings.Join(lines, "\n")
}

// encode writes a value as block YAML with two-space indentation; mapping
// keys come out sorted, as controller-gen writes them. Everything taken from
// the manifests passes through here, so here it is kept from being read as
// template actions.
func encode(value any) (string, error) {
	var out bytes.Buffer
	encoder := yaml.NewEncoder(&out)
	encoder.SetIndent(2)
	if err := encoder.Encode(value); err != nil {
		return "", err
	}
	if err := encoder.Close(); err != nil {
		return "", err
	}
	if text := out.String(); strings.Contains(text, "{{") || strings.Contains(text, "}}") {
		return "", errors.New("holds template delimiters, which helm would execute")
	}
	return out.String(), nil
}

func stringField(object map[string]any, field string) string {
	value, _ := object[field].(string)
	return value
}
