package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	snapv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/test/cluster"
)

// TestFaults kills golive with SIGKILL in every phase of two releases, one
// that goes live and one whose data is rolled back, and restarts the
// kube-apiserver in the middle of a third: every release ends as it would
// without the faults, golive creates nothing twice (every Job, ConfigMap,
// VolumeSnapshot and claim it makes is created once: one UID per name), and
// no snapshot is lost.
func TestFaults(t *testing.T) {
	cl := cluster.Start(t, cluster.Options{Name: "golive-faults", Authorization: true})
	cl.StartCSI(t)
	golive := cl.StartGolive(t)
	grantApprovalRoles(t, cl.Client)

	t.Run("golive killed in every phase of a release that goes live", func(t *testing.T) {
		killedInEveryPhase(t, cl, golive)
	})
	t.Run("golive killed while it rolls back workloads and data", func(t *testing.T) {
		killedWhileRollingBack(t, cl, golive)
	})
	t.Run("the kube-apiserver restarts during a release", func(t *testing.T) {
		apiServerRestarts(t, cl, golive)
	})
}

// faultRequest releases both the API and the database, with a soak, gated
// HTTP checks in both environments, the database stopped and snapshotted.
func (a *app) faultRequest(name, release, stagingURL, productionURL string) *golivev1alpha1.UpdateRequest {
	request := a.request(name, release)
	request.Spec.Targets = append(request.Spec.Targets, golivev1alpha1.Target{Kind: golivev1alpha1.TargetStatefulSet, Name: database,
		Images: map[string]golivev1alpha1.Image{container: newImage}})
	request.Spec.Staging.Soak = metav1.Duration{Duration: 10 * time.Second}
	request.Spec.Staging.Verify.Timeout = metav1.Duration{Duration: 10 * time.Minute}
	request.Spec.Staging.Verify.HTTP = []golivev1alpha1.HTTPCheck{httpCheck(stagingURL)}
	request.Spec.Verify.Timeout = metav1.Duration{Duration: 10 * time.Minute}
	request.Spec.Verify.HTTP = []golivev1alpha1.HTTPCheck{httpCheck(productionURL)}
	request.Spec.Backup = golivev1alpha1.Backup{
		VolumeClaimSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "billing"}},
		VolumeSnapshotClassName: cluster.VolumeSnapshotClass,
		Quiesce:                 golivev1alpha1.QuiesceScaleToZero,
		Retention:               metav1.Duration{Duration: 168 * time.Hour},
	}
	return request
}

// player plays a release to its end: in each phase of kills it kills golive
// (SIGKILL) the first time it sees the request there, checks that the
// request is still there once golive is dead, and starts golive again; in
// each phase of steps it then plays the people's part, once.
type player struct {
	t      *testing.T
	golive *cluster.Golive
	r      *release
	kills  []golivev1alpha1.Phase
	steps  map[golivev1alpha1.Phase]func()
}

func (d *player) run(within time.Duration) golivev1alpha1.UpdateRequest {
	d.t.Helper()
	killed := map[golivev1alpha1.Phase]bool{}
	stepped := map[golivev1alpha1.Phase]bool{}
	var ended golivev1alpha1.UpdateRequest
	cluster.Eventually(d.t, within, "the release to end", func(ctx context.Context) (bool, string, error) {
		request := d.r.current()
		phase := request.Status.Phase
		if phase.IsTerminal() {
			ended = request
			return true, "", nil
		}
		if slices.Contains(d.kills, phase) && !killed[phase] {
			d.golive.Kill(d.t)
			if now := d.r.current().Status.Phase; now != phase {
				return false, "", cluster.Permanent(fmt.Errorf("golive was killed as soon as the request was seen %s, but it was %s by then: the phase is too short for the test", phase, now))
			}
			d.t.Logf("killed golive in %s (%s)", phase, d.r.describe())
			killed[phase] = true
			d.golive.Restart(d.t)
		}
		if step, ok := d.steps[phase]; ok && !stepped[phase] {
			stepped[phase] = true
			step()
		}
		return false, d.r.describe(), nil
	})
	for _, phase := range d.kills {
		if !killed[phase] {
			d.t.Errorf("golive was never killed in %s: the request passed it unseen (phases %v)", phase, phases(ended))
		}
	}
	return ended
}

// creations records every object of golive's kinds created in the
// namespaces, by UID, from informers that re-list after a lost watch.
type creations struct {
	mu   sync.Mutex
	uids map[string]map[types.UID]bool
}

// recordCreations starts informers on Jobs, ConfigMaps, VolumeSnapshots and
// claims in namespaces, recording each object's UID under kind/namespace/name.
func recordCreations(t *testing.T, cl *cluster.Cluster, namespaces ...string) *creations {
	t.Helper()
	defaults := map[string]cache.Config{}
	for _, namespace := range namespaces {
		defaults[namespace] = cache.Config{}
	}
	informers, err := cache.New(cl.Config, cache.Options{Scheme: cl.Client.Scheme(), DefaultNamespaces: defaults})
	if err != nil {
		t.Fatal(err)
	}
	rec := &creations{uids: map[string]map[types.UID]bool{}}
	for _, kind := range []client.Object{&batchv1.Job{}, &corev1.ConfigMap{}, &snapv1.VolumeSnapshot{}, &corev1.PersistentVolumeClaim{}} {
		informer, err := informers.GetInformer(t.Context(), kind)
		if err != nil {
			t.Fatal(err)
		}
		kindName := fmt.Sprintf("%T", kind)[1:]
		if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
			if o, ok := obj.(client.Object); ok {
				rec.add(kindName+" "+o.GetNamespace()+"/"+o.GetName(), o.GetUID())
			}
		}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(t.Context()) {
		t.Fatal("the recording informers did not sync")
	}
	return rec
}

func (rec *creations) add(key string, uid types.UID) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.uids[key] == nil {
		rec.uids[key] = map[types.UID]bool{}
	}
	rec.uids[key][uid] = true
}

// createdMoreThan lists the objects created more often than allowed (once
// unless said otherwise).
func (rec *creations) createdMoreThan(allowed map[string]int) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var twice []string
	for _, key := range slices.Sorted(maps.Keys(rec.uids)) {
		if n := len(rec.uids[key]); n > max(1, allowed[key]) {
			twice = append(twice, fmt.Sprintf("%s created %d times", key, n))
		}
	}
	return twice
}

func (rec *creations) count(prefix string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for key, uids := range rec.uids {
		if strings.HasPrefix(key, prefix) {
			n += len(uids)
		}
	}
	return n
}

// killedInEveryPhase: golive is killed in each phase from Staging to
// AwaitingAcceptance of a release that goes live.
func killedInEveryPhase(t *testing.T, cl *cluster.Cluster, golive *cluster.Golive) {
	a := newApp(t, cl, "killed", frozen(alwaysOpen()), appOptions{database: true, slow: true})
	rec := recordCreations(t, cl, a.production, a.staging)
	stagingHealth := newHealthServer(t, http.StatusServiceUnavailable)
	productionHealth := newHealthServer(t, http.StatusServiceUnavailable)
	request := a.faultRequest("billing-2-4-0", "2.4.0", stagingHealth.URL+"/healthz", productionHealth.URL+"/healthz")
	request.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: roleBusinessOwner, Timeout: metav1.Duration{Duration: time.Hour}}
	r := a.create(request)

	d := &player{t: t, golive: golive, r: r,
		kills: []golivev1alpha1.Phase{golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging, golivev1alpha1.PhaseSoaking,
			golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.PhaseScheduled, golivev1alpha1.PhaseBackingUp, golivev1alpha1.PhaseUpdating,
			golivev1alpha1.PhaseVerifying, golivev1alpha1.PhaseAwaitingAcceptance},
		steps: map[golivev1alpha1.Phase]func(){
			golivev1alpha1.PhaseVerifyingStaging: func() { stagingHealth.status.Store(http.StatusOK) },
			golivev1alpha1.PhaseAwaitingApproval: func() {
				approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
				approve(t, cl, carol, r.key, roleOperationsOffice, "agreed")
			},
			golivev1alpha1.PhaseScheduled: a.liftFreeze,
			golivev1alpha1.PhaseVerifying: func() { productionHealth.status.Store(http.StatusOK) },
			golivev1alpha1.PhaseAwaitingAcceptance: func() {
				if err := command(t, cl, erin, r.key, golivev1alpha1.AnnotationAccept, "invoices checked"); err != nil {
					t.Fatalf("erin accepting: %v", err)
				}
			},
		},
	}
	done := d.run(15 * time.Minute)
	t.Logf("the request's timeline:\n%s", timeline(done))

	want := []golivev1alpha1.Phase{golivev1alpha1.PhasePending, golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging,
		golivev1alpha1.PhaseSoaking, golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.PhaseScheduled, golivev1alpha1.PhaseBackingUp,
		golivev1alpha1.PhaseUpdating, golivev1alpha1.PhaseVerifying, golivev1alpha1.PhaseAwaitingAcceptance, golivev1alpha1.PhaseSucceeded}
	if got := phases(done); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v, each once, as without the kills", got, want)
	}
	waitForRollout(t, a.c, a.production, api, apiImage("2.4.0"), r.describe)
	if twice := rec.createdMoreThan(nil); len(twice) > 0 {
		t.Errorf("created more than once: %s", strings.Join(twice, "; "))
	}
	if n := rec.count("v1.VolumeSnapshot "); n != 1 {
		t.Errorf("%d VolumeSnapshots created, want 1", n)
	}
	snapshots := done.Status.Backup.Snapshots
	if len(snapshots) != 1 || !snapshots[0].ReadyToUse {
		t.Fatalf("status.backup.snapshots = %+v, want one ready snapshot", snapshots)
	}
	var snapshot snapv1.VolumeSnapshot
	if err := a.c.Get(t.Context(), client.ObjectKey{Namespace: a.production, Name: snapshots[0].VolumeSnapshot}, &snapshot); err != nil {
		t.Errorf("the backup's VolumeSnapshot is lost: %v", err)
	} else if !ptr.Deref(snapshot.Status.ReadyToUse, false) {
		t.Errorf("VolumeSnapshot %s is not ready to use: %+v", snapshot.Name, snapshot.Status)
	}
	if got := done.Status.Backup.QuiescedReplicas["StatefulSet/"+database]; got != 1 {
		t.Errorf("quiesced replicas of %s = %d, want 1 (recorded once, before the stop)", database, got)
	}
}

// killedWhileRollingBack: production's check fails, and golive is killed
// while it restores the database's claim and the previous specs; the data
// is restored exactly, once.
func killedWhileRollingBack(t *testing.T, cl *cluster.Cluster, golive *cluster.Golive) {
	a := newApp(t, cl, "killed-rollback", frozen(alwaysOpen()), appOptions{database: true, slow: true})
	rec := recordCreations(t, cl, a.production, a.staging)
	volume := cl.BoundVolume(t, a.production, claim, timeout)
	dir := cl.VolumeDir(t, volume)
	cluster.WriteFile(t, filepath.Join(dir, "db", "invoices.bin"), randomBytes(t, 1<<20))
	before := cluster.Digests(t, dir)

	stagingHealth := newHealthServer(t, http.StatusOK)
	productionHealth := newHealthServer(t, http.StatusOK)
	request := a.faultRequest("billing-2-5-0", "2.5.0", stagingHealth.URL+"/healthz", productionHealth.URL+"/healthz")
	request.Spec.Staging.Soak = metav1.Duration{}
	// Rolled back by a person at acceptance, after the new version wrote.
	request.Spec.Acceptance = &golivev1alpha1.Acceptance{Role: roleBusinessOwner, Timeout: metav1.Duration{Duration: time.Hour}}
	r := a.create(request)
	d := &player{t: t, golive: golive, r: r,
		kills: []golivev1alpha1.Phase{golivev1alpha1.PhaseRollingBack},
		steps: map[golivev1alpha1.Phase]func(){
			golivev1alpha1.PhaseAwaitingApproval: func() {
				approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
				approve(t, cl, carol, r.key, roleOperationsOffice, "agreed")
			},
			golivev1alpha1.PhaseScheduled: a.liftFreeze,
			golivev1alpha1.PhaseAwaitingAcceptance: func() {
				cluster.WriteFile(t, filepath.Join(dir, "db", "invoices.bin"), []byte("rows in the 2.5.0 format"))
				if err := command(t, cl, erin, r.key, golivev1alpha1.AnnotationReject, roleBusinessOwner+"; totals are wrong"); err != nil {
					t.Fatalf("erin rejecting: %v", err)
				}
			},
		},
	}
	done := d.run(15 * time.Minute)
	t.Logf("the request's timeline:\n%s", timeline(done))
	if done.Status.Phase != golivev1alpha1.PhaseRolledBack {
		t.Fatalf("the release ended %s, want RolledBack", done.Status.Phase)
	}
	if rollback := done.Status.Rollback; rollback == nil || !rollback.DataRestored {
		t.Errorf("status.rollback = %+v, want the data restored", rollback)
	}
	restored := cl.BoundVolume(t, a.production, claim, timeout)
	if got := cluster.Digests(t, cl.VolumeDir(t, restored)); got != before {
		t.Errorf("the restored volume differs from the data before the update:\n got:\n%s\nwant:\n%s", got, before)
	}
	waitForRollout(t, a.c, a.production, api, apiPrevious, r.describe)
	// The claim is created twice: by the StatefulSet controller, then by golive from the snapshot.
	if twice := rec.createdMoreThan(map[string]int{"v1.PersistentVolumeClaim " + a.production + "/" + claim: 2}); len(twice) > 0 {
		t.Errorf("created more than once: %s", strings.Join(twice, "; "))
	}
	if n := rec.count("v1.VolumeSnapshot "); n != 1 {
		t.Errorf("%d VolumeSnapshots created, want 1", n)
	}
}

// apiServerRestarts: the kube-apiserver is killed and started again while
// production rolls out; golive either rides it out or, having lost its
// lease, exits and is started again (as the kubelet would), and the release
// ends as it would have.
func apiServerRestarts(t *testing.T, cl *cluster.Cluster, golive *cluster.Golive) {
	a := newApp(t, cl, "apiserver", frozen(alwaysOpen()), appOptions{database: true, slow: true})
	rec := recordCreations(t, cl, a.production, a.staging)
	health := newHealthServer(t, http.StatusOK)
	request := a.faultRequest("billing-2-6-0", "2.6.0", health.URL+"/staging", health.URL+"/production")
	request.Spec.Staging.Soak = metav1.Duration{}
	r := a.create(request)
	r.waitForPhase(golivev1alpha1.PhaseAwaitingApproval)
	approve(t, cl, bob, r.key, roleRnDLead, "reviewed")
	approve(t, cl, carol, r.key, roleOperationsOffice, "agreed")
	r.waitForPhase(golivev1alpha1.PhaseScheduled)
	a.liftFreeze()
	r.waitForPhase(golivev1alpha1.PhaseUpdating)

	cl.RestartAPIServer(t)
	if golive.Exited() {
		t.Logf("golive exited while the kube-apiserver was away (%v); starting it again, as the kubelet would", golive.ExitError())
		golive.Restart(t)
	}
	done := r.waitForPhaseWithin(golivev1alpha1.PhaseSucceeded, 5*time.Minute)
	t.Logf("the request's timeline:\n%s", timeline(done))
	want := []golivev1alpha1.Phase{golivev1alpha1.PhasePending, golivev1alpha1.PhaseStaging, golivev1alpha1.PhaseVerifyingStaging,
		golivev1alpha1.PhaseSoaking, golivev1alpha1.PhaseAwaitingApproval, golivev1alpha1.PhaseScheduled, golivev1alpha1.PhaseBackingUp,
		golivev1alpha1.PhaseUpdating, golivev1alpha1.PhaseVerifying, golivev1alpha1.PhaseSucceeded}
	if got := phases(done); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	waitForRollout(t, a.c, a.production, api, apiImage("2.6.0"), r.describe)
	if twice := rec.createdMoreThan(nil); len(twice) > 0 {
		t.Errorf("created more than once: %s", strings.Join(twice, "; "))
	}
}
