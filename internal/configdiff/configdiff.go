// Package configdiff compares the configuration a release carries
// (spec.config) with what production runs now, as the kubectl plugin and the
// approver console show it: a ConfigMap's keys with values, a Secret's keys
// only, never its values.
package configdiff

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/freetext"
	"github.com/golive-dev/golive/internal/releasecontent"
	"github.com/golive-dev/golive/internal/workload"
)

// Production is what production runs now of one entry of spec.config:
// the object its targets reference and that object's content; of a Secret
// only the keys, never the values.
type Production struct {
	// Object is the ConfigMap or Secret production's targets reference (the
	// entry's name, or a copy an earlier release made); empty when none does.
	Object string
	Data   map[string]string
	Keys   []string
	// Unreadable says why the object could not be read.
	Unreadable string
}

// ReadProduction reads, for each entry of spec.config, what production runs now.
func ReadProduction(ctx context.Context, c client.Reader, request *golivev1alpha1.UpdateRequest) []Production {
	current := make([]Production, len(request.Spec.Config))
	for i, entry := range request.Spec.Config {
		for _, target := range request.Spec.Targets {
			object, err := workload.Get(ctx, c, target, request.Namespace)
			if err != nil {
				continue
			}
			for _, name := range releasecontent.Names(&workload.PodTemplate(object).Spec, entry.Kind) {
				if releasecontent.IsCopyOf(name, entry.Name) {
					current[i].Object = name
					break
				}
			}
			if current[i].Object != "" {
				break
			}
		}
		if current[i].Object == "" {
			continue
		}
		key := client.ObjectKey{Namespace: request.Namespace, Name: current[i].Object}
		var err error
		if entry.Kind == golivev1alpha1.ConfigKindSecret {
			var secret corev1.Secret
			if err = c.Get(ctx, key, &secret); err == nil {
				current[i].Keys = slices.Sorted(maps.Keys(secret.Data))
			}
		} else {
			var configMap corev1.ConfigMap
			if err = c.Get(ctx, key, &configMap); err == nil {
				current[i].Data = configMap.Data
			}
		}
		switch {
		case apierrors.IsForbidden(err):
			current[i].Unreadable = "you may not read it"
		case err != nil:
			current[i].Unreadable = err.Error()
		}
	}
	return current
}

// Lines describe, for each entry of spec.config, what the release
// changes against what production runs now: a ConfigMap's keys added,
// removed and changed, with values; a Secret's keys only.
func Lines(request *golivev1alpha1.UpdateRequest, current []Production) []string {
	var lines []string
	for i, entry := range request.Spec.Config {
		var now Production
		if i < len(current) {
			now = current[i]
		}
		header := fmt.Sprintf("%s %s", entry.Kind, entry.Name)
		if copy := CopyOf(request, entry); copy != "" {
			header += " → " + copy
		}
		switch {
		case now.Object == "":
			header += ": no production target references it now"
		case now.Unreadable != "":
			header += fmt.Sprintf(": production runs %s, which cannot be read (%s)", now.Object, now.Unreadable)
		default:
			header += ", against " + now.Object + " in production"
		}
		lines = append(lines, header)
		if now.Object == "" || now.Unreadable != "" {
			continue
		}
		if entry.Kind == golivev1alpha1.ConfigKindSecret {
			if keys := KeysOf(request, entry); keys != nil {
				lines = append(lines, secretKeyLines(keys, now.Keys)...)
			} else {
				lines = append(lines, "  (the release's keys are known once staging copied "+entry.FromSecret+")")
			}
			continue
		}
		lines = append(lines, configMapLines(entry.Data, now.Data)...)
	}
	return lines
}

// configMapLines: "+ KEY=value" added, "- KEY=value" removed, "~ KEY: old → new" changed.
func configMapLines(release, production map[string]string) []string {
	var lines []string
	for _, key := range slices.Sorted(maps.Keys(merged(release, production))) {
		after, inRelease := release[key]
		before, inProduction := production[key]
		switch {
		case inRelease && !inProduction:
			lines = append(lines, fmt.Sprintf("  + %s=%s", key, oneLine(after)))
		case !inRelease && inProduction:
			lines = append(lines, fmt.Sprintf("  - %s=%s", key, oneLine(before)))
		case after != before:
			lines = append(lines, fmt.Sprintf("  ~ %s: %s → %s", key, oneLine(before), oneLine(after)))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "  (same content)")
	}
	return lines
}

// secretKeyLines compares a Secret's keys; values are never shown, so a key
// in both may or may not change.
func secretKeyLines(release, production []string) []string {
	var added, removed, kept []string
	for _, key := range release {
		if slices.Contains(production, key) {
			kept = append(kept, key)
		} else {
			added = append(added, "+ "+key)
		}
	}
	for _, key := range production {
		if !slices.Contains(release, key) {
			removed = append(removed, "- "+key)
		}
	}
	lines := []string{}
	for _, group := range [][]string{added, removed} {
		for _, key := range group {
			lines = append(lines, "  "+key)
		}
	}
	if len(kept) > 0 {
		lines = append(lines, "  keys in both (values are never shown): "+strings.Join(kept, ", "))
	}
	return lines
}

func merged(a, b map[string]string) map[string]string {
	all := maps.Clone(a)
	if all == nil {
		all = map[string]string{}
	}
	maps.Copy(all, b)
	return all
}

// CopyOf is the copy status.config records for entry; empty before staging made it.
func CopyOf(request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.ConfigEntry) string {
	for _, copy := range request.Status.Config {
		if copy.Kind == entry.Kind && copy.Name == entry.Name {
			return copy.Copy
		}
	}
	return ""
}

// KeysOf are the keys of entry's content: a ConfigMap's data, or what status.config recorded of a Secret.
func KeysOf(request *golivev1alpha1.UpdateRequest, entry golivev1alpha1.ConfigEntry) []string {
	if entry.Kind == golivev1alpha1.ConfigKindConfigMap {
		return slices.Sorted(maps.Keys(entry.Data))
	}
	for _, copy := range request.Status.Config {
		if copy.Kind == entry.Kind && copy.Name == entry.Name {
			return copy.Keys
		}
	}
	return nil
}

// oneLine is a value people wrote, on one line without control characters.
func oneLine(s string) string {
	return strings.Join(strings.Fields(freetext.OneLine(s)), " ")
}
