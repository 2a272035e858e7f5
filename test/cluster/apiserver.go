package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// apiServerRestartTimeout bounds a restart of the kube-apiserver: it reads
// back everything from etcd before it serves again.
const apiServerRestartTimeout = 2 * time.Minute

// RestartAPIServer kills the cluster's kube-apiserver (SIGKILL, as a crash
// or an OOM kill would) and starts it again with the same flags (kwokctl
// start cluster starts the components that do not run), then waits until it
// serves again. Everything talking to it sees its connections drop and its
// watches end.
func (c *Cluster) RestartAPIServer(t *testing.T) {
	t.Helper()
	pidFile := filepath.Join(c.kwokWorkDir(), "clusters", c.Name, "pids", "kube-apiserver.pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("reading the kube-apiserver's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("the kube-apiserver's pid file %s: %v", pidFile, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the kube-apiserver (pid %d): %v", pid, err)
	}
	Eventually(t, time.Minute, fmt.Sprintf("the kube-apiserver (pid %d) to exit", pid), func(context.Context) (bool, string, error) {
		return syscall.Kill(pid, 0) != nil, "still running", nil
	})
	c.run(t, filepath.Join(c.dirs.kwok, "kwokctl"), "start", "cluster", "--v=WARN", "--name", c.Name)
	if t.Failed() {
		t.FailNow()
	}
	Eventually(t, apiServerRestartTimeout, "the kube-apiserver to serve again", func(ctx context.Context) (bool, string, error) {
		out, err := c.kubectlOutput(ctx, "get", "--raw", "/readyz")
		return err == nil && out == "ok", out, nil
	})
}

// kwokWorkDir is where kwokctl keeps its clusters: $KWOK_WORKDIR, else ~/.kwok.
func (c *Cluster) kwokWorkDir() string {
	if dir := os.Getenv("KWOK_WORKDIR"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".kwok"
	}
	return filepath.Join(home, ".kwok")
}

// As is a client acting as user in groups (impersonated by the admin), as
// the API server authenticates a person: RBAC and the admission webhooks
// see user and groups.
func (c *Cluster) As(t *testing.T, user string, groups ...string) client.Client {
	t.Helper()
	config := rest.CopyConfig(c.Config)
	config.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: slices.Concat(groups, []string{"system:authenticated"})}
	impersonating, err := client.New(config, client.Options{Scheme: c.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return impersonating
}
