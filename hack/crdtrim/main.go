// Command crdtrim drops the upstream Kubernetes descriptions from the Job
// templates embedded in golive's CRDs.
//
// A verification Job template is a full batch/v1 JobTemplateSpec, so that the
// API server validates it at admission. With every PodSpec description kept,
// the UpdateRequest CRD (two Verifications) grows past etcd's request limit.
// Those descriptions are Kubernetes' own and `kubectl explain job.spec` shows
// them; golive's descriptions, including the template's own, are kept.
//
// Usage: crdtrim FILE... (rewrites each file in place; idempotent).
package main

import (
	"bytes"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// trimmedProperty is the schema property below which descriptions are dropped,
// found as properties.jobs.items.properties.template.
var trimmedPath = []string{"jobs", "items", "template"}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: crdtrim FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := trimFile(path); err != nil {
			fmt.Fprintf(os.Stderr, "crdtrim: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func trimFile(path string) error {
	in, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(in, &doc); err != nil {
		return err
	}
	walk(&doc, nil)
	var out bytes.Buffer
	out.WriteString("---\n")
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// walk visits every mapping; trail holds the schema-relevant keys seen so far
// (property names and "items"), so that a template's subtree can be recognised.
func walk(node *yaml.Node, trail []string) {
	switch node.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, child := range node.Content {
			walk(child, trail)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i].Value, node.Content[i+1]
			if key == "properties" && value.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(value.Content); j += 2 {
					name, schema := value.Content[j].Value, value.Content[j+1]
					next := append(append([]string{}, trail...), name)
					if hasSuffix(next, trimmedPath) {
						dropDescriptions(schema, true)
						continue
					}
					walk(schema, next)
				}
				continue
			}
			if key == "items" {
				walk(value, append(append([]string{}, trail...), "items"))
				continue
			}
			walk(value, trail)
		}
	}
}

// dropDescriptions removes every "description" below node; keepOwn keeps node's own.
func dropDescriptions(node *yaml.Node, keepOwn bool) {
	switch node.Kind {
	case yaml.SequenceNode:
		for _, child := range node.Content {
			dropDescriptions(child, false)
		}
	case yaml.MappingNode:
		kept := node.Content[:0]
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i], node.Content[i+1]
			if key.Value == "description" && value.Kind == yaml.ScalarNode && !keepOwn {
				continue
			}
			// Property names may themselves be "description"; only schema keywords are dropped.
			if key.Value == "properties" {
				for j := 1; j < len(value.Content); j += 2 {
					dropDescriptions(value.Content[j], false)
				}
			} else {
				dropDescriptions(value, false)
			}
			kept = append(kept, key, value)
		}
		node.Content = kept
	}
}

func hasSuffix(trail, suffix []string) bool {
	if len(trail) < len(suffix) {
		return false
	}
	for i := range suffix {
		if trail[len(trail)-len(suffix)+i] != suffix[i] {
			return false
		}
	}
	return true
}
