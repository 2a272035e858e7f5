// Package workload changes and observes the Deployments, StatefulSets and
// DaemonSets that an UpdateRequest targets: it applies the requested images,
// saves the pod templates before production changes and restores them, scales,
// and tells from an object alone whether its rollout is healthy.
//
// The pure parts (Rollout, ImagesApplied, MissingContainers, PodTemplate) take
// objects and return values; the others take a client.Client and keep no state,
// so that every call can be repeated after a crash with the same result.
package workload
