// Package csi_test proves the CSI snapshot chain that golive's backup and
// restore tests rely on: a kwok cluster with a real control plane,
// hack/csi.sh up (the test driver, csi-provisioner, csi-snapshotter,
// snapshot-controller), then PVC -> data -> VolumeSnapshot -> restored PVC
// holding exactly the snapshotted bytes.
package csi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/test/cluster"
	"github.com/golive-dev/golive/test/csi/driver"
)

const (
	storageClass  = cluster.StorageClass
	snapshotClass = cluster.VolumeSnapshotClass
	namespace     = "chain"
	// timeout bounds every wait; the whole flow takes seconds, but the
	// machine may be busy with other test packages.
	timeout = 2 * time.Minute
)

func TestSnapshotChain(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-csi"})
	cl.StartCSI(t)
	c, dataRoot := cl.Client, cl.DataRoot()
	ctx := t.Context()

	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})

	// 1. A PVC of the golive-csi class is provisioned and bound.
	mustCreate(t, c, pvc("source", nil))
	srcDir := volumeDir(t, cl, "source")

	// 2. Known bytes in the volume, written where the driver keeps its data.
	random := make([]byte, 1<<20)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	cluster.WriteFile(t, filepath.Join(srcDir, "db", "table.bin"), random)
	cluster.WriteFile(t, filepath.Join(srcDir, "version"), []byte("2.3.1\n"))
	want := cluster.Digests(t, srcDir)

	// 3. A VolumeSnapshot of it becomes ready, with the volume's size to restore.
	mustCreate(t, c, &snapv1.VolumeSnapshot{
		ObjectMeta: metav1.ObjectMeta{Name: "before-update", Namespace: namespace},
		Spec: snapv1.VolumeSnapshotSpec{
			VolumeSnapshotClassName: ptr.To(snapshotClass),
			Source:                  snapv1.VolumeSnapshotSource{PersistentVolumeClaimName: ptr.To("source")},
		},
	})
	var snap snapv1.VolumeSnapshot
	eventually(t, "VolumeSnapshot before-update to be ready to use", func(ctx context.Context) (bool, string, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "before-update"}, &snap); err != nil {
			return false, "", err
		}
		st := snap.Status
		if st == nil {
			return false, "no status", nil
		}
		if st.Error != nil && st.Error.Message != nil {
			return false, "error: " + *st.Error.Message, nil
		}
		return ptr.Deref(st.ReadyToUse, false) && st.RestoreSize != nil, fmt.Sprintf("readyToUse %v, restoreSize %v", ptr.Deref(st.ReadyToUse, false), st.RestoreSize), nil
	})
	if got := snap.Status.RestoreSize; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("restoreSize = %v, want 1Gi", got)
	}
	var content snapv1.VolumeSnapshotContent
	if err := c.Get(ctx, client.ObjectKey{Name: ptr.Deref(snap.Status.BoundVolumeSnapshotContentName, "")}, &content); err != nil {
		t.Fatal(err)
	}
	snapshotHandle := ptr.Deref(content.Status.SnapshotHandle, "")
	if _, err := os.Stat(driver.SnapshotFile(dataRoot, snapshotHandle)); err != nil {
		t.Errorf("snapshot file of %q: %v", snapshotHandle, err)
	}

	// 4. The update changes the data afterwards.
	cluster.WriteFile(t, filepath.Join(srcDir, "db", "table.bin"), []byte("migrated"))
	cluster.WriteFile(t, filepath.Join(srcDir, "db", "new-index.bin"), []byte("index"))
	if err := os.Remove(filepath.Join(srcDir, "version")); err != nil {
		t.Fatal(err)
	}

	// 5. A PVC restored from the snapshot holds exactly the bytes from before.
	mustCreate(t, c, pvc("restored", &corev1.TypedLocalObjectReference{
		APIGroup: ptr.To(snapv1.GroupName), Kind: "VolumeSnapshot", Name: "before-update",
	}))
	restoredDir := volumeDir(t, cl, "restored")
	if restoredDir == srcDir {
		t.Fatalf("the restored PVC got the source's volume %s", srcDir)
	}
	if got := cluster.Digests(t, restoredDir); got != want {
		t.Errorf("restored volume differs from the snapshot:\n got:\n%s\nwant:\n%s", got, want)
	}
	if got := cluster.Digests(t, srcDir); got == want {
		t.Errorf("the source volume still holds the snapshotted data; the update did not change it")
	}

	// 6. Deleting the claims and the snapshot deletes the PVs, the content and the data.
	for _, obj := range []client.Object{
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "restored", Namespace: namespace}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "source", Namespace: namespace}},
		&snapv1.VolumeSnapshot{ObjectMeta: metav1.ObjectMeta{Name: "before-update", Namespace: namespace}},
	} {
		if err := c.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the PVs, the VolumeSnapshotContent and their data to be deleted", func(ctx context.Context) (bool, string, error) {
		var pvs corev1.PersistentVolumeList
		if err := c.List(ctx, &pvs); err != nil {
			return false, "", err
		}
		var contents snapv1.VolumeSnapshotContentList
		if err := c.List(ctx, &contents); err != nil {
			return false, "", err
		}
		vols, _ := os.ReadDir(filepath.Join(dataRoot, "volumes"))
		snaps, _ := os.ReadDir(filepath.Join(dataRoot, "snapshots"))
		left := fmt.Sprintf("%d PVs, %d VolumeSnapshotContents, %d volume dirs, %d snapshot files",
			len(pvs.Items), len(contents.Items), len(vols), len(snaps))
		return len(pvs.Items)+len(contents.Items)+len(vols)+len(snaps) == 0, left, nil
	})
}

func mustCreate(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(t.Context(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func pvc(name string, source *corev1.TypedLocalObjectReference) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To(storageClass),
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			},
			DataSource: source,
		},
	}
}

// volumeDir waits for the PVC to be bound and returns its data directory,
// found through the PV's volume handle.
func volumeDir(t *testing.T, cl *cluster.Cluster, claim string) string {
	t.Helper()
	pv := cl.BoundVolume(t, namespace, claim, timeout)
	if got := pv.Spec.Capacity[corev1.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("PV %s capacity %v, want 1Gi", pv.Name, got)
	}
	return cl.VolumeDir(t, pv)
}

// eventually polls cond until it reports done, for at most the timeout.
func eventually(t *testing.T, what string, cond func(context.Context) (done bool, state string, err error)) {
	t.Helper()
	cluster.Eventually(t, timeout, what, cond)
}
