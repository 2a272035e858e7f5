// Package csi_test proves the CSI snapshot chain that golive's backup and
// restore tests rely on: a kwok cluster with a real control plane,
// hack/csi.sh up (the test driver, csi-provisioner, csi-snapshotter,
// snapshot-controller), then PVC -> data -> VolumeSnapshot -> restored PVC
// holding exactly the snapshotted bytes.
package csi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/golive-dev/golive/test/csi/driver"
)

const (
	storageClass  = "golive-csi"
	snapshotClass = "golive-csi"
	nodeName      = "kwok-node-0"
	namespace     = "chain"
	// timeout bounds every wait; the whole flow takes seconds, but the
	// machine may be busy with other test packages.
	timeout = 2 * time.Minute
)

func TestSnapshotChain(t *testing.T) {
	env := e2eEnv(t)
	c, dataRoot := startChain(t, env)
	ctx := t.Context()

	mustCreate(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})

	// 1. A PVC of the golive-csi class is provisioned and bound.
	mustCreate(t, c, pvc("source", nil))
	srcDir := volumeDir(t, c, dataRoot, "source")

	// 2. Known bytes in the volume, written where the driver keeps its data.
	random := make([]byte, 1<<20)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(srcDir, "db", "table.bin"), random)
	writeFile(t, filepath.Join(srcDir, "version"), []byte("2.3.1\n"))
	want := digests(t, srcDir)

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
	writeFile(t, filepath.Join(srcDir, "db", "table.bin"), []byte("migrated"))
	writeFile(t, filepath.Join(srcDir, "db", "new-index.bin"), []byte("index"))
	if err := os.Remove(filepath.Join(srcDir, "version")); err != nil {
		t.Fatal(err)
	}

	// 5. A PVC restored from the snapshot holds exactly the bytes from before.
	mustCreate(t, c, pvc("restored", &corev1.TypedLocalObjectReference{
		APIGroup: ptr.To(snapv1.GroupName), Kind: "VolumeSnapshot", Name: "before-update",
	}))
	restoredDir := volumeDir(t, c, dataRoot, "restored")
	if restoredDir == srcDir {
		t.Fatalf("the restored PVC got the source's volume %s", srcDir)
	}
	if got := digests(t, restoredDir); got != want {
		t.Errorf("restored volume differs from the snapshot:\n got:\n%s\nwant:\n%s", got, want)
	}
	if got := digests(t, srcDir); got == want {
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

// env is where the binaries are, as the Makefile exports them.
type env struct {
	controlPlane, kwok, csi, repo string
}

func e2eEnv(t *testing.T) env {
	t.Helper()
	if os.Getenv("GOLIVE_SKIP_E2E") == "1" {
		t.Skip("GOLIVE_SKIP_E2E=1: skipping the kwok end-to-end test")
	}
	var missing []string
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	e := env{controlPlane: get("CONTROLPLANE_DIR"), kwok: get("KWOK_DIR"), csi: get("CSI_DIR")}
	if len(missing) > 0 {
		t.Fatalf("%s not set: run this test through `make test`, which builds the control plane, kwok and "+
			"the CSI sidecars and sets CONTROLPLANE_DIR, KWOK_DIR and CSI_DIR (GOLIVE_SKIP_E2E=1 skips it)",
			strings.Join(missing, ", "))
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	e.repo = repo
	return e
}

// startChain starts a kwok cluster of its own with one fake node and the CSI
// chain on it, and tears both down when the test ends, passed or not. It
// returns a client and the driver's data root.
func startChain(t *testing.T, e env) (client.Client, string) {
	t.Helper()
	work := t.TempDir()
	kubeconfig := filepath.Join(work, "kubeconfig")
	kwokctl := filepath.Join(e.kwok, "kwokctl")
	cluster := "golive-csi-" + randomSuffix(t)
	kubectl := filepath.Join(e.controlPlane, "kubectl")
	environ := append(os.Environ(),
		"KWOK_KUBE_VERSION="+kubeVersion(t, e),
		"KWOK_KUBECTL_BINARY="+kubectl,
		"KUBECONFIG="+kubeconfig,
		"GOLIVE_CSI_WORK_DIR="+filepath.Join(work, "csi"),
		"CSI_DIR="+e.csi,
		"CONTROLPLANE_DIR="+e.controlPlane,
	)

	// Cleanups run last-registered first: the chain stops, its logs are
	// shown if the test failed, then the cluster goes.
	t.Cleanup(func() {
		run(t, environ, kwokctl, "delete", "cluster", "--v=WARN", "--name", cluster, "--kubeconfig", kubeconfig)
	})
	run(t, environ, kwokctl, "create", "cluster", "--v=WARN", "--name", cluster, "--runtime", "binary",
		"--kubeconfig", kubeconfig,
		"--etcd-binary", filepath.Join(e.controlPlane, "etcd"),
		"--kube-apiserver-binary", filepath.Join(e.controlPlane, "kube-apiserver"),
		"--kube-controller-manager-binary", filepath.Join(e.controlPlane, "kube-controller-manager"),
		"--kube-scheduler-binary", filepath.Join(e.controlPlane, "kube-scheduler"),
		"--kwok-controller-binary", filepath.Join(e.kwok, "kwok"),
		"--wait", "2m")
	if t.Failed() {
		t.FailNow()
	}

	c := newClient(t, kubeconfig)
	mustCreate(t, c, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: nodeName,
			Annotations: map[string]string{
				"kwok.x-k8s.io/node":           "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
			Labels: map[string]string{"kubernetes.io/hostname": nodeName, "type": "kwok"},
		},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110")},
		},
	})

	csiSh := filepath.Join(e.repo, "hack", "csi.sh")
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(work, "csi", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				t.Logf("the end of %s:\n%s", filepath.Base(l), strings.Join(lines[max(0, len(lines)-40):], "\n"))
			}
		}
	})
	t.Cleanup(func() { run(t, environ, csiSh, "down") })
	run(t, environ, csiSh, "up", nodeName)
	if t.Failed() {
		t.FailNow()
	}
	return c, filepath.Join(work, "csi", "data")
}

// run runs a command to completion within the timeout, logging its output;
// a failure fails the test but lets the caller (or a cleanup) go on.
func run(t *testing.T, environ []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = environ
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s (%s):\n%s", filepath.Base(name), strings.Join(args[:min(2, len(args))], " "), time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Errorf("%s %s: %v", name, strings.Join(args, " "), err)
	}
}

// kubeVersion is the control plane's version, for kwokctl's defaults: from
// the Makefile's KUBERNETES_VERSION, else from kube-apiserver itself.
func kubeVersion(t *testing.T, e env) string {
	t.Helper()
	if v := os.Getenv("KUBERNETES_VERSION"); v != "" {
		return v
	}
	out, err := exec.Command(filepath.Join(e.controlPlane, "kube-apiserver"), "--version").Output()
	if err != nil {
		t.Fatalf("kube-apiserver --version: %v", err)
	}
	v := regexp.MustCompile(`v\d+\.\d+\.\d+\S*`).FindString(string(out))
	if v == "" {
		t.Fatalf("no version in %q", out)
	}
	return v
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func newClient(t *testing.T, kubeconfig string) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := snapv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
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
func volumeDir(t *testing.T, c client.Client, dataRoot, claim string) string {
	t.Helper()
	var pv corev1.PersistentVolume
	eventually(t, "PVC "+claim+" to be bound", func(ctx context.Context) (bool, string, error) {
		var p corev1.PersistentVolumeClaim
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: claim}, &p); err != nil {
			return false, "", err
		}
		if p.Status.Phase != corev1.ClaimBound {
			return false, fmt.Sprintf("phase %q; %s", p.Status.Phase, lastEvent(ctx, c, "PersistentVolumeClaim", claim)), nil
		}
		return true, "", c.Get(ctx, client.ObjectKey{Name: p.Spec.VolumeName}, &pv)
	})
	if pv.Spec.CSI == nil || pv.Spec.CSI.Driver != driver.DefaultName {
		t.Fatalf("PV %s is not a %s volume: %+v", pv.Name, driver.DefaultName, pv.Spec.PersistentVolumeSource)
	}
	if got := pv.Spec.Capacity[corev1.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("PV %s capacity %v, want 1Gi", pv.Name, got)
	}
	dir := driver.VolumeDir(dataRoot, pv.Spec.CSI.VolumeHandle)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("data directory of PV %s: %v", pv.Name, err)
	}
	return dir
}

// lastEvent is the newest event about an object, to say why a wait goes on.
func lastEvent(ctx context.Context, c client.Client, kind, name string) string {
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace(namespace)); err != nil {
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

// eventually polls cond until it reports done, for at most the timeout; on
// timeout the test fails with cond's last description of the state.
func eventually(t *testing.T, what string, cond func(context.Context) (done bool, state string, err error)) {
	t.Helper()
	var state string
	var lastErr error
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		done, s, err := cond(ctx)
		state, lastErr = s, err
		if apierrors.IsNotFound(err) {
			return false, nil // not created yet, or the cache is behind
		}
		return done && err == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last state: %s, last error: %v)", what, err, state, lastErr)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// digests lists every file under dir with the sha256 of its content, sorted.
func digests(t *testing.T, dir string) string {
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
