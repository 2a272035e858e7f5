// Package argocd holds golive's Argo CD resource health checks, one Lua
// script per kind under <group>/<kind>/health.lua (the layout of Argo CD's
// own resource_customizations), and the tests that run them against statuses
// produced by golive's code, check them against the kstatus rules Flux and
// `kubectl wait` use, and keep docs/gitops.md showing exactly these scripts.
package argocd
