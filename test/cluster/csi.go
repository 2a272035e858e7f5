package cluster

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/test/csi/driver"
)

// The classes hack/csi.sh installs.
const (
	StorageClass        = "golive-csi"
	VolumeSnapshotClass = "golive-csi"
)

// StartCSI starts the CSI snapshot chain on the cluster (hack/csi.sh up on
// DefaultNode: the snapshot CRDs, StorageClass and VolumeSnapshotClass
// golive-csi, the test driver, csi-provisioner, csi-snapshotter and
// snapshot-controller) and stops it when the test ends, printing the chain's
// logs if the test failed.
func (c *Cluster) StartCSI(t *testing.T) {
	t.Helper()
	csiSh := filepath.Join(c.dirs.repo, "hack", "csi.sh")
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(c.work, "csi", "*.log"))
			for _, l := range logs {
				t.Logf("the end of %s:\n%s", filepath.Base(l), tail(l, 40))
			}
		}
	})
	t.Cleanup(func() { c.run(t, csiSh, "down") })
	c.run(t, csiSh, "up", DefaultNode)
	if t.Failed() {
		t.FailNow()
	}
}

// DataRoot is the test driver's data root: volumes/<volumeHandle>/,
// snapshots/<snapshotHandle>.tar.
func (c *Cluster) DataRoot() string { return filepath.Join(c.work, "csi", "data") }

// BoundVolume waits, for at most timeout, until the claim is bound and
// returns its PersistentVolume.
func (c *Cluster) BoundVolume(t *testing.T, namespace, claim string, timeout time.Duration) *corev1.PersistentVolume {
	t.Helper()
	var pv corev1.PersistentVolume
	Eventually(t, timeout, "PVC "+namespace+"/"+claim+" to be bound", func(ctx context.Context) (bool, string, error) {
		var p corev1.PersistentVolumeClaim
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: claim}, &p); err != nil {
			return false, "", err
		}
		if p.Status.Phase != corev1.ClaimBound {
			return false, fmt.Sprintf("phase %q; %s", p.Status.Phase, c.LastEvent(ctx, namespace, "PersistentVolumeClaim", claim)), nil
		}
		return true, "", c.Client.Get(ctx, client.ObjectKey{Name: p.Spec.VolumeName}, &pv)
	})
	return &pv
}

// VolumeDir is the data directory of a volume of the test driver.
func (c *Cluster) VolumeDir(t *testing.T, pv *corev1.PersistentVolume) string {
	t.Helper()
	if pv.Spec.CSI == nil || pv.Spec.CSI.Driver != driver.DefaultName {
		t.Fatalf("PV %s is not a %s volume: %+v", pv.Name, driver.DefaultName, pv.Spec.PersistentVolumeSource)
	}
	dir := driver.VolumeDir(c.DataRoot(), pv.Spec.CSI.VolumeHandle)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("data directory of PV %s: %v", pv.Name, err)
	}
	return dir
}

// LastEvent is the newest event about an object, to say why a wait goes on.
func (c *Cluster) LastEvent(ctx context.Context, namespace, kind, name string) string {
	var events corev1.EventList
	if err := c.Client.List(ctx, &events, client.InNamespace(namespace)); err != nil {
		return ""
	}
	var last *corev1.Event
	for i := range events.Items {
		e := &events.Items[i]
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name &&
			(last == nil || e.LastTimestamp.After(last.LastTimestamp.Time)) {
			last = e
		}
	}
	if last == nil {
		return "no events"
	}
	return fmt.Sprintf("last event %s: %s", last.Reason, last.Message)
}

// WriteFile writes data to path, creating its directories.
func WriteFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Digests lists every file under dir with the sha256 of its content, sorted.
func Digests(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
