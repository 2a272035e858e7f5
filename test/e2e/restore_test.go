// Package e2e runs whole journeys of golive on a local kwok cluster with a
// real control plane, the real CSI snapshot chain and golive built from the
// work tree, running as its ServiceAccount with the shipped RBAC and its
// admission webhooks installed. The tests play only the people (impersonated:
// the requester, the approvers, the new version that writes to its volume)
// and the faults. See docs/e2e.md.
package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/backup"
	"github.com/golive-dev/golive/internal/testfixtures"
	"github.com/golive-dev/golive/test/cluster"
	"github.com/golive-dev/golive/test/csi/driver"
)

const (
	production    = "billing"
	staging       = "billing-grey"
	windowName    = "always"
	requestName   = "billing-2-4-0"
	database      = "billing-db"
	container     = "db"
	previousImage = "billing-db:2.3.1"
	newImage      = "billing-db:2.4.0"
	// claim is the StatefulSet's claim of its volumeClaimTemplate "data" for pod 0.
	claim = "data-billing-db-0"
	pod   = "billing-db-0"

	// verifyTimeout fails production's health check, which never answers
	// 200: long enough for the test to see the new version run and write
	// before the rollback starts, short enough to keep the test quick.
	verifyTimeout = 60 * time.Second
	// retention keeps the snapshot after the request ended.
	retention = 30 * time.Second
	// timeout bounds every wait for something that takes seconds; the
	// machine may be busy with other test packages.
	timeout = 3 * time.Minute
)

// TestFailedProductionRestoresData is the journey of a release whose
// production verification fails: golive stops the database, snapshots its
// volume, updates it, sees the health check fail, rolls the workload back
// and replaces the claim with one restored from the snapshot, keeping the
// volume the failed version wrote to; after the retention the snapshot goes.
func TestFailedProductionRestoresData(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-e2e", Authorization: true})
	cl.StartCSI(t)
	cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)
	c := cl.Client
	ctx := t.Context()

	// The new version's health endpoint, probed by golive from its own process.
	var probes atomic.Int32
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		probes.Add(1)
		http.Error(w, "the new schema is missing a column", http.StatusInternalServerError)
	}))
	t.Cleanup(health.Close)

	j := &journey{release: &release{t: t, c: c, key: client.ObjectKey{Namespace: production, Name: requestName}}}
	namespaces(t, c, production)
	bindPeople(t, c, production)
	create(t, c, alwaysOpenWindow(production, windowName))
	for _, namespace := range []string{production, staging} {
		create(t, c, statefulSet(namespace))
	}
	for _, namespace := range []string{production, staging} {
		j.waitForPod(t, namespace, previousImage)
	}

	// What the running version wrote before the update.
	volume := cl.BoundVolume(t, production, claim, timeout)
	dir := cl.VolumeDir(t, volume)
	cluster.WriteFile(t, filepath.Join(dir, "db", "invoices.bin"), randomBytes(t, 1<<20))
	cluster.WriteFile(t, filepath.Join(dir, "schema-version"), []byte("2.3.1\n"))
	before := cluster.Digests(t, dir)

	// alice asks for the release; bob approves it, through the admission webhooks.
	if err := as(t, cl, alice).Create(ctx, updateRequest(health.URL+"/healthz")); err != nil {
		t.Fatalf("alice creating the request: %v", err)
	}
	j.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	j.waitForPod(t, staging, newImage)
	approve(t, cl, bob, j.key, roleRnDLead, "reviewed")

	// golive stops the database, snapshots its volume, updates it and scales it back.
	j.waitForPod(t, production, newImage)
	request := j.current()
	if request.Status.Phase != golivev1alpha1.PhaseUpdating && request.Status.Phase != golivev1alpha1.PhaseVerifying {
		t.Fatalf("production runs %s, but the request is already %s; want Updating or Verifying (%s)", newImage, request.Status.Phase, j.describe())
	}
	if got := request.Status.Backup.QuiescedReplicas; got["StatefulSet/"+database] != 1 {
		t.Errorf("status.backup.quiescedReplicas = %v, want StatefulSet/%s: 1", got, database)
	}
	if got := request.Status.Backup.Snapshots; len(got) != 1 || got[0].Claim != claim || !got[0].ReadyToUse {
		t.Fatalf("status.backup.snapshots = %+v, want one ready snapshot of claim %s", got, claim)
	}
	snapshotName := request.Status.Backup.Snapshots[0].VolumeSnapshot
	var snapshot snapv1.VolumeSnapshot
	if err := c.Get(ctx, client.ObjectKey{Namespace: production, Name: snapshotName}, &snapshot); err != nil {
		t.Fatal(err)
	}
	contentName := ptr.Deref(snapshot.Status.BoundVolumeSnapshotContentName, "")
	var content snapv1.VolumeSnapshotContent
	if err := c.Get(ctx, client.ObjectKey{Name: contentName}, &content); err != nil {
		t.Fatalf("the VolumeSnapshotContent of %s: %v", snapshotName, err)
	}
	snapshotFile := driver.SnapshotFile(cl.DataRoot(), ptr.Deref(content.Status.SnapshotHandle, ""))

	// The failed version writes to the same volume while it runs.
	if current := boundVolumeName(t, c); current != volume.Name {
		t.Fatalf("claim %s is bound to %s while the new version runs, want the volume it had before, %s", claim, current, volume.Name)
	}
	cluster.WriteFile(t, filepath.Join(dir, "db", "invoices.bin"), []byte("rows in the 2.4.0 format"))
	cluster.WriteFile(t, filepath.Join(dir, "schema-version"), []byte("2.4.0\n"))
	failed := cluster.Digests(t, dir)
	if phase := j.current().Status.Phase; phase != golivev1alpha1.PhaseUpdating && phase != golivev1alpha1.PhaseVerifying {
		t.Fatalf("the request was %s before the failed version finished writing; verifyTimeout %s is too short for this machine (%s)",
			phase, verifyTimeout, j.describe())
	}

	// The health check never passes: RollingBack, then RolledBack.
	request = j.waitForPhaseWithin(golivev1alpha1.PhaseRolledBack, verifyTimeout+timeout)
	t.Logf("the request's timeline:\n%s", timeline(request))

	t.Run("production's verification failed on the health check", func(t *testing.T) {
		check := findCheck(request.Status.Production, "health")
		if check == nil || check.Result != golivev1alpha1.CheckFailed || !strings.Contains(check.Message, "500") {
			t.Errorf("production check health = %+v, want Failed after answers 500", check)
		}
		if probes.Load() == 0 {
			t.Errorf("golive never probed %s", health.URL)
		}
		if rollback := request.Status.Rollback; rollback == nil || !rollback.DataRestored || rollback.TargetsRestored != 1 {
			t.Errorf("status.rollback = %+v, want data restored and 1 target restored", rollback)
		}
	})

	t.Run("the request's Events tell its story", func(t *testing.T) {
		// An Event for every entry of the timeline, and one when its record is written.
		want := []string{golivev1alpha1.ReasonRecordWritten}
		for _, entry := range request.Status.Timeline {
			want = append(want, entry.Event)
		}
		cluster.Eventually(t, timeout, "an Event for every entry of the timeline", func(ctx context.Context) (bool, string, error) {
			var events eventsv1.EventList
			if err := c.List(ctx, &events, client.InNamespace(production)); err != nil {
				return false, "", err
			}
			var got, warnings []string
			for _, event := range events.Items {
				if event.Regarding.Kind == "UpdateRequest" && event.Regarding.Name == requestName {
					got = append(got, event.Reason)
					if event.Type == corev1.EventTypeWarning {
						warnings = append(warnings, event.Reason)
					}
				}
			}
			slices.Sort(got)
			slices.Sort(warnings)
			sorted := slices.Sorted(slices.Values(want))
			return slices.Equal(got, sorted) && slices.Equal(warnings, []string{"Failed", "VerificationFailed"}),
				fmt.Sprintf("Events %v (warnings %v), want %v (warnings Failed, VerificationFailed)", got, warnings, sorted), nil
		})
	})

	t.Run("the claim was restored from the snapshot", func(t *testing.T) {
		var restored corev1.PersistentVolumeClaim
		if err := c.Get(ctx, client.ObjectKey{Namespace: production, Name: claim}, &restored); err != nil {
			t.Fatal(err)
		}
		if got := restored.Annotations[backup.AnnotationRestoredBy]; got != string(request.UID) {
			t.Errorf("claim %s: %s = %q, want the request's UID %s", claim, backup.AnnotationRestoredBy, got, request.UID)
		}
		if got := restored.Annotations[backup.AnnotationRestoredFrom]; got != snapshotName {
			t.Errorf("claim %s: %s = %q, want %s", claim, backup.AnnotationRestoredFrom, got, snapshotName)
		}
		if restored.Labels["app"] != "billing" {
			t.Errorf("claim %s lost its labels: %v", claim, restored.Labels)
		}
		newVolume := cl.BoundVolume(t, production, claim, timeout)
		if newVolume.Name == volume.Name {
			t.Fatalf("claim %s is still bound to the failed version's volume %s", claim, volume.Name)
		}
		if got := cluster.Digests(t, cl.VolumeDir(t, newVolume)); got != before {
			t.Errorf("the restored volume %s differs from the data before the update:\n got:\n%s\nwant:\n%s", newVolume.Name, got, before)
		}
	})

	t.Run("the failed version's volume is kept", func(t *testing.T) {
		var kept corev1.PersistentVolume
		if err := c.Get(ctx, client.ObjectKey{Name: volume.Name}, &kept); err != nil {
			t.Fatalf("the failed version's volume %s: %v", volume.Name, err)
		}
		if kept.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
			t.Errorf("volume %s has reclaim policy %s, want Retain", kept.Name, kept.Spec.PersistentVolumeReclaimPolicy)
		}
		if got := kept.Annotations[backup.AnnotationRetainedBy]; got != string(request.UID) {
			t.Errorf("volume %s: %s = %q, want the request's UID %s", kept.Name, backup.AnnotationRetainedBy, got, request.UID)
		}
		if got := cluster.Digests(t, dir); got != failed {
			t.Errorf("the retained volume %s no longer holds what the failed version wrote:\n got:\n%s\nwant:\n%s", kept.Name, got, failed)
		}
	})

	t.Run("the database runs the previous version again", func(t *testing.T) {
		var sts appsv1.StatefulSet
		if err := c.Get(ctx, client.ObjectKey{Namespace: production, Name: database}, &sts); err != nil {
			t.Fatal(err)
		}
		if image, replicas := sts.Spec.Template.Spec.Containers[0].Image, ptr.Deref(sts.Spec.Replicas, 1); image != previousImage || replicas != 1 {
			t.Errorf("StatefulSet %s asks for %d replicas of %s, want 1 of %s", database, replicas, image, previousImage)
		}
		j.waitForPod(t, production, previousImage)
	})

	// After the retention the snapshot goes, and with it its content and data.
	cluster.Eventually(t, retention+timeout, "the backup to be deleted after the retention", func(ctx context.Context) (bool, string, error) {
		var left []string
		if err := c.Get(ctx, client.ObjectKey{Namespace: production, Name: snapshotName}, &snapv1.VolumeSnapshot{}); !apierrors.IsNotFound(err) {
			left = append(left, "VolumeSnapshot "+snapshotName)
		}
		if err := c.Get(ctx, client.ObjectKey{Name: contentName}, &snapv1.VolumeSnapshotContent{}); !apierrors.IsNotFound(err) {
			left = append(left, "VolumeSnapshotContent "+contentName)
		}
		if _, err := os.Stat(snapshotFile); !os.IsNotExist(err) {
			left = append(left, "the snapshot's file")
		}
		savedSpecs := request.Status.Backup.SavedSpecs
		if err := c.Get(ctx, client.ObjectKey{Namespace: production, Name: savedSpecs}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			left = append(left, "ConfigMap "+savedSpecs)
		}
		return len(left) == 0, fmt.Sprintf("still there: %s; expires at %s (%s)", strings.Join(left, ", "),
			request.Status.Backup.ExpiresAt, j.describe()), nil
	})
}

// journey follows the request as a user would, with kubectl.
type journey struct {
	*release
}

// statefulSet is the billing database: one replica with a volume of the
// test driver, whose claim carries app=billing.
func statefulSet(namespace string) *appsv1.StatefulSet {
	labels := map[string]string{"app": "billing", "component": "db"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: database, Namespace: namespace, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(int32(1)),
			ServiceName: database,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: container, Image: previousImage,
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/billing"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: map[string]string{"app": "billing"}},
				Spec: corev1.PersistentVolumeClaimSpec{
					StorageClassName: ptr.To(cluster.StorageClass),
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
					},
				},
			}},
		},
	}
}

// updateRequest is alice's request for release 2.4.0 of the database, with
// its volume backed up, quiesced, and production verified by a health check
// at healthURL.
func updateRequest(healthURL string) *golivev1alpha1.UpdateRequest {
	return testfixtures.MakeUpdateRequest(production, requestName).
		Release("2.4.0").
		Target(golivev1alpha1.TargetStatefulSet, database, map[string]string{container: newImage}).
		Staging(staging).
		Approval(roleRnDLead, 1).
		Window(windowName).
		SnapshotVolumes(map[string]string{"app": "billing"}, cluster.VolumeSnapshotClass).
		Quiesce(golivev1alpha1.QuiesceScaleToZero).Retention(retention).
		VerifyTimeout(verifyTimeout).
		Mutate(func(r *golivev1alpha1.UpdateRequest) {
			r.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{{Name: "health", URL: healthURL, Period: metav1.Duration{Duration: time.Second}}}
		}).Obj()
}

// waitForPod waits until the database's pod in namespace runs image and is ready.
func (j *journey) waitForPod(t *testing.T, namespace, image string) {
	t.Helper()
	cluster.Eventually(t, timeout, fmt.Sprintf("pod %s/%s to run %s", namespace, pod, image), func(ctx context.Context) (bool, string, error) {
		var p corev1.Pod
		if err := j.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: pod}, &p); err != nil {
			return false, "request: " + j.describe(), err
		}
		ready := podReady(&p)
		state := fmt.Sprintf("runs %s, phase %s, ready %v, deleting %v; request: %s",
			p.Spec.Containers[0].Image, p.Status.Phase, ready, p.DeletionTimestamp != nil, j.describe())
		return p.Spec.Containers[0].Image == image && ready && p.DeletionTimestamp == nil, state, nil
	})
}

// boundVolumeName is the volume the production claim is bound to now.
func boundVolumeName(t *testing.T, c client.Client) string {
	t.Helper()
	var p corev1.PersistentVolumeClaim
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: production, Name: claim}, &p); err != nil {
		t.Fatal(err)
	}
	return p.Spec.VolumeName
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
