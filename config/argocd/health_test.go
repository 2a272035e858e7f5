package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// The health scripts, as Argo CD finds them: resource.customizations.health.<group>_<kind>.
var scripts = map[string]string{
	"UpdateRequest": filepath.Join("golive.dev", "UpdateRequest", "health.lua"),
	"GoLiveWindow":  filepath.Join("golive.dev", "GoLiveWindow", "health.lua"),
}

// health is what Argo CD and kstatus make of one object.
type health struct {
	argo, argoMessage string
	kstatus           status.Status
}

// assess runs the kind's Lua health check as Argo CD runs it, and kstatus.
func assess(t *testing.T, object runtime.Object) health {
	t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(object)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: content}
	script, err := os.ReadFile(scripts[u.GetKind()])
	if err != nil {
		t.Fatalf("Reading the health check of %s: %v", u.GetKind(), err)
	}
	argo, message, err := runHealthLua(string(script), u.Object)
	if err != nil {
		t.Fatalf("Running the health check of %s: %v", u.GetKind(), err)
	}
	result, err := status.Compute(u)
	if err != nil {
		t.Fatalf("kstatus: %v", err)
	}
	return health{argo: argo, argoMessage: message, kstatus: result.Status}
}

// argoHealthStatuses are the statuses Argo CD accepts from a health script;
// anything else it shows as Unknown.
var argoHealthStatuses = []string{"Healthy", "Progressing", "Suspended", "Degraded", "Missing", "Unknown"}

// runHealthLua runs a health script the way Argo CD runs custom health checks
// from argocd-cm (util/lua in argo-cd): Lua's standard libraries are not
// opened, only package, base and table (and a reduced os, which the scripts do
// not use); the object is the global obj; the script must finish within a
// second and return a table with status and message.
func runHealthLua(script string, object map[string]any) (healthStatus, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", luaValue(l, object))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	result, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	healthStatus = lua.LVAsString(result.RawGetString("status"))
	if !slices.Contains(argoHealthStatuses, healthStatus) {
		return "", "", fmt.Errorf("the script returned status %q, which Argo CD shows as Unknown", healthStatus)
	}
	if m := result.RawGetString("message"); m.Type() != lua.LTString && m != lua.LNil {
		return "", "", fmt.Errorf("the script returned a message of type %s", m.Type())
	}
	return healthStatus, lua.LVAsString(result.RawGetString("message")), nil
}

// luaValue converts an object to Lua as Argo CD does (decodeValue in util/lua):
// maps to tables, slices to arrays, numbers to numbers.
func luaValue(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case json.Number:
		return lua.LString(v)
	case []any:
		array := l.CreateTable(len(v), 0)
		for _, item := range v {
			array.Append(luaValue(l, item))
		}
		return array
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), luaValue(l, item))
		}
		return table
	}
	return lua.LNil
}

// wantForPhase is the health of a request in each phase as golive decides
// it: waits on time or people are Suspended in Argo CD, work in progress is
// Progressing; kstatus sees both as InProgress (Reconciling).
var wantForPhase = map[golivev1alpha1.Phase]health{
	golivev1alpha1.PhaseStaging:            {argo: "Progressing", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseVerifyingStaging:   {argo: "Progressing", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseSoaking:            {argo: "Suspended", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseAwaitingApproval:   {argo: "Suspended", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseScheduled:          {argo: "Suspended", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseAwaitingGo:         {argo: "Suspended", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseBackingUp:          {argo: "Progressing", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseUpdating:           {argo: "Progressing", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseVerifying:          {argo: "Progressing", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseAwaitingAcceptance: {argo: "Suspended", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseRollingBack:        {argo: "Progressing", kstatus: status.InProgressStatus},
	golivev1alpha1.PhaseSucceeded:          {argo: "Healthy", kstatus: status.CurrentStatus},
	golivev1alpha1.PhaseFailed:             {argo: "Degraded", kstatus: status.FailedStatus},
	golivev1alpha1.PhaseRolledBack:         {argo: "Degraded", kstatus: status.FailedStatus},
	golivev1alpha1.PhaseRejected:           {argo: "Degraded", kstatus: status.FailedStatus},
	golivev1alpha1.PhaseAborted:            {argo: "Degraded", kstatus: status.FailedStatus},
}

func TestUpdateRequestHealthThroughWholeReleases(t *testing.T) {
	journeys := map[string]func(*journey){
		"accepted release": func(j *journey) {
			j.commands[golivev1alpha1.PhaseAwaitingApproval] = approvedBy()
			j.commands[golivev1alpha1.PhaseAwaitingAcceptance] = []lifecycle.Command{
				{Action: lifecycle.ActionAccept, User: "erin@example.com", Role: "business-owner", Comment: "functional tests passed"}}
		},
		"supervised release": func(j *journey) {
			j.world.SupervisionRoles = []string{"operations-supervisor"}
			j.commands[golivev1alpha1.PhaseAwaitingApproval] = approvedBy()
			j.commands[golivev1alpha1.PhaseAwaitingGo] = []lifecycle.Command{
				{Action: lifecycle.ActionGo, User: "sam@example.com", Role: "operations-supervisor", Comment: "on the bridge"}}
		},
		"staging fails its verification": func(j *journey) { j.failStaging = true },
		"production fails its verification and is rolled back": func(j *journey) {
			j.commands[golivev1alpha1.PhaseAwaitingApproval] = approvedBy()
			j.failProduction = true
		},
		"rejected by an approver": func(j *journey) {
			j.commands[golivev1alpha1.PhaseAwaitingApproval] = []lifecycle.Command{
				{Action: lifecycle.ActionReject, User: "carol@example.com", Role: "operations-office", Comment: "backup untested"}}
		},
		"aborted while scheduled": func(j *journey) {
			j.commands[golivev1alpha1.PhaseAwaitingApproval] = approvedBy()
			j.commands[golivev1alpha1.PhaseScheduled] = []lifecycle.Command{
				{Action: lifecycle.ActionAbort, User: "alice@example.com", Comment: "the vendor withdrew 2.4.0"}}
		},
	}
	seen := map[golivev1alpha1.Phase]bool{}
	for name, setup := range journeys {
		t.Run(name, func(t *testing.T) {
			j := newJourney(t)
			setup(j)
			for _, sample := range j.run() {
				phase := sample.Status.Phase
				seen[phase] = true
				want, ok := wantForPhase[phase]
				if !ok {
					t.Fatalf("No expectation for phase %s", phase)
				}
				got := assess(t, sample)
				if got.argo != want.argo || got.kstatus != want.kstatus {
					t.Errorf("%s (Ready reason %s): Argo CD %s, kstatus %s; want %s, %s",
						phase, readyReason(sample), got.argo, got.kstatus, want.argo, want.kstatus)
				}
				wantMessage := string(phase)
				if ready := readyMessage(sample); ready != "" {
					wantMessage += ": " + ready
				}
				if got.argoMessage != wantMessage {
					t.Errorf("%s: Argo CD message %q, want %q", phase, got.argoMessage, wantMessage)
				}
			}
		})
	}
	for phase := range wantForPhase {
		if !seen[phase] {
			t.Errorf("No journey passed through phase %s", phase)
		}
	}
}

func readyMessage(request *golivev1alpha1.UpdateRequest) string {
	for _, condition := range request.Status.Conditions {
		if condition.Type == golivev1alpha1.ConditionReady {
			return condition.Message
		}
	}
	return ""
}

// Requests that wait in Pending: for a person (Stalled) or behind another
// request or spec.suspend (a wait).
func TestUpdateRequestHealthWhilePending(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*golivev1alpha1.UpdateRequest, *lifecycle.World)
		want   health
	}{
		{"a missing window stalls it", func(_ *golivev1alpha1.UpdateRequest, w *lifecycle.World) { w.Window.Found = false },
			health{argo: "Degraded", kstatus: status.FailedStatus}},
		{"a staging namespace that did not opt in stalls it", func(_ *golivev1alpha1.UpdateRequest, w *lifecycle.World) { w.StagingNamespace.OptedIn = false },
			health{argo: "Degraded", kstatus: status.FailedStatus}},
		{"another request holds a target", func(_ *golivev1alpha1.UpdateRequest, w *lifecycle.World) {
			w.Lock = lifecycle.Lock{Name: "billing-2-3-9", Phase: golivev1alpha1.PhaseStaging}
		},
			health{argo: "Suspended", kstatus: status.InProgressStatus}},
		{"suspended before staging", func(r *golivev1alpha1.UpdateRequest, _ *lifecycle.World) { r.Spec.Suspend = true },
			health{argo: "Suspended", kstatus: status.InProgressStatus}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sample := decideOnce(tc.change)
			if sample.Status.Phase != golivev1alpha1.PhasePending {
				t.Fatalf("The request is in %s, want Pending", sample.Status.Phase)
			}
			got := assess(t, sample)
			if got.argo != tc.want.argo || got.kstatus != tc.want.kstatus {
				t.Errorf("Argo CD %s (%s), kstatus %s; want %s, %s", got.argo, got.argoMessage, got.kstatus, tc.want.argo, tc.want.kstatus)
			}
			if want := "Pending: " + readyMessage(sample); got.argoMessage != want {
				t.Errorf("Argo CD message %q, want %q", got.argoMessage, want)
			}
		})
	}
}

// Before golive has recorded a status for the current spec, Argo CD must not
// call a request healthy; kstatus agrees once a status exists.
func TestUpdateRequestHealthBeforeGoliveObservesIt(t *testing.T) {
	awaiting := decideOnce(func(*golivev1alpha1.UpdateRequest, *lifecycle.World) {})
	for _, tc := range []struct {
		name    string
		request func() *golivev1alpha1.UpdateRequest
		want    health
	}{
		{
			name:    "a new request without status",
			request: newRequest,
			// kstatus has nothing to go by and calls a resource without
			// conditions Current; golive writes its first status at once.
			want: health{argo: "Progressing", argoMessage: "Waiting for golive to observe the request", kstatus: status.CurrentStatus},
		},
		{
			name: "a spec changed since the status was recorded",
			request: func() *golivev1alpha1.UpdateRequest {
				r := awaiting.DeepCopy()
				r.Generation = 2
				return r
			},
			want: health{argo: "Progressing", argoMessage: "Waiting for golive to observe generation 2", kstatus: status.InProgressStatus},
		},
		{
			name: "a request being deleted",
			request: func() *golivev1alpha1.UpdateRequest {
				r := awaiting.DeepCopy()
				r.DeletionTimestamp = &metav1.Time{Time: monday}
				return r
			},
			want: health{argo: "Progressing", argoMessage: "Being deleted", kstatus: status.TerminatingStatus},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := assess(t, tc.request()); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Every script returns what Argo CD accepts for objects with missing or
// unexpected fields, instead of failing (Argo CD would show an error).
func TestHealthScriptsTolerateSparseObjects(t *testing.T) {
	for kind, path := range scripts {
		script, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, object := range []map[string]any{
			{"metadata": map[string]any{}},
			{"metadata": map[string]any{"generation": int64(1)}, "status": map[string]any{}},
			{"metadata": map[string]any{"generation": int64(1)}, "status": map[string]any{"observedGeneration": int64(1)}},
			{"metadata": map[string]any{"generation": int64(1)}, "status": map[string]any{"observedGeneration": int64(1),
				"conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "Progressing"}}}},
			{"metadata": map[string]any{"generation": int64(1)}, "status": map[string]any{"observedGeneration": int64(1),
				"conditions": []any{map[string]any{"type": "Stalled", "status": "True", "reason": "InvalidSpec"}}}},
		} {
			if _, _, err := runHealthLua(string(script), object); err != nil {
				t.Errorf("%s on %v: %v", kind, object, err)
			}
		}
	}
}
