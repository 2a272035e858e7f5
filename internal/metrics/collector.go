package metrics

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/lifecycle"
)

// Phases lists every phase, in the order of the release process, as the
// lifecycle defines it.
var Phases = lifecycle.PhaseOrder()

// EmergencyRole is the role label of the approval an emergency request needs
// from one of its window's emergency.roles.
const EmergencyRole = "emergency"

// listTimeout bounds a scrape's reads from the cache.
const listTimeout = 10 * time.Second

var (
	requestsDesc = prometheus.NewDesc("golive_update_requests",
		"Update requests by namespace and phase; every phase is reported for a namespace with requests.",
		[]string{"namespace", "phase"}, nil)
	approvalsPendingDesc = prometheus.NewDesc("golive_approvals_pending",
		"Approvals still needed by the update requests awaiting approval, by namespace and role.",
		[]string{"namespace", "role"}, nil)
	windowOpenDesc = prometheus.NewDesc("golive_window_open",
		"1 while a GoLiveWindow is open, else 0.",
		[]string{"namespace", "window"}, nil)
)

// Collector reports the state of requests and windows, computed at scrape
// time from a reader of the manager's cache.
type Collector struct {
	reader client.Reader
	// elected is closed once this replica leads; only the leader reports, so
	// that replicas do not count the same requests twice. Nil: always report.
	elected <-chan struct{}
}

// NewCollector makes a Collector reading from reader (the manager's cache)
// that reports once elected is closed (the manager's Elected()).
func NewCollector(reader client.Reader, elected <-chan struct{}) *Collector {
	return &Collector{reader: reader, elected: elected}
}

// Describe sends the descriptions of the metrics.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- requestsDesc
	ch <- approvalsPendingDesc
	ch <- windowOpenDesc
}

// Collect lists the requests and windows and sends their figures.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.elected != nil {
		select {
		case <-c.elected:
		default:
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	// Read only: the cache's objects are not copied for every scrape.
	var requests golivev1alpha1.UpdateRequestList
	if err := c.reader.List(ctx, &requests, client.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(requestsDesc, err)
		return
	}
	var windows golivev1alpha1.GoLiveWindowList
	if err := c.reader.List(ctx, &windows, client.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(windowOpenDesc, err)
		return
	}
	state := StateOf(requests.Items, windows.Items)
	for _, sample := range state.Requests {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.GaugeValue, float64(sample.Value), sample.Namespace, string(sample.Phase))
	}
	for _, sample := range state.ApprovalsPending {
		ch <- prometheus.MustNewConstMetric(approvalsPendingDesc, prometheus.GaugeValue, float64(sample.Value), sample.Namespace, sample.Role)
	}
	for _, sample := range state.Windows {
		ch <- prometheus.MustNewConstMetric(windowOpenDesc, prometheus.GaugeValue, float64(sample.Value), sample.Namespace, sample.Window)
	}
}

// State is the figures of one scrape.
type State struct {
	Requests         []Sample
	ApprovalsPending []Sample
	Windows          []Sample
}

// Sample is one figure and its labels.
type Sample struct {
	Namespace string
	Phase     golivev1alpha1.Phase
	Role      string
	Window    string
	Value     int
}

// StateOf computes the figures of requests and windows, sorted by their labels.
func StateOf(requests []golivev1alpha1.UpdateRequest, windows []golivev1alpha1.GoLiveWindow) State {
	var state State
	byPhase := map[string]map[golivev1alpha1.Phase]int{}
	pending := map[[2]string]int{}
	windowsByName := map[[2]string]*golivev1alpha1.GoLiveWindow{}
	for i, window := range windows {
		windowsByName[[2]string{window.Namespace, window.Name}] = &windows[i]
		open := 0
		if window.Status.Open {
			open = 1
		}
		state.Windows = append(state.Windows, Sample{Namespace: window.Namespace, Window: window.Name, Value: open})
	}
	for _, request := range requests {
		if byPhase[request.Namespace] == nil {
			byPhase[request.Namespace] = map[golivev1alpha1.Phase]int{}
		}
		// A request not yet decided on is, for its readers, pending.
		phase := request.Status.Phase
		if phase == "" {
			phase = golivev1alpha1.PhasePending
		}
		byPhase[request.Namespace][phase]++
		if phase != golivev1alpha1.PhaseAwaitingApproval {
			continue
		}
		for role, missing := range missingApprovals(&request, windowsByName[[2]string{request.Namespace, request.Spec.Window.Name}]) {
			pending[[2]string{request.Namespace, role}] += missing
		}
	}
	for namespace, counts := range byPhase {
		for _, phase := range Phases {
			state.Requests = append(state.Requests, Sample{Namespace: namespace, Phase: phase, Value: counts[phase]})
		}
	}
	for key, missing := range pending {
		state.ApprovalsPending = append(state.ApprovalsPending, Sample{Namespace: key[0], Role: key[1], Value: missing})
	}
	slices.SortFunc(state.Requests, func(a, b Sample) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(slices.Index(Phases, a.Phase), slices.Index(Phases, b.Phase)))
	})
	byLabels := func(a, b Sample) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Role, b.Role), cmp.Compare(a.Window, b.Window))
	}
	slices.SortFunc(state.ApprovalsPending, byLabels)
	slices.SortFunc(state.Windows, byLabels)
	return state
}

// missingApprovals counts, by role, the approvals request still needs, by
// golive's own count (lifecycle.ShareApprovals): status.approvals shared out
// to the quorums, the emergency quorum under EmergencyRole. window may be nil
// (not in the cache): an emergency request then still needs its emergency
// approval, which any approval the quorums do not take fills.
func missingApprovals(request *golivev1alpha1.UpdateRequest, window *golivev1alpha1.GoLiveWindow) map[string]int {
	missing := map[string]int{}
	for _, quorum := range lifecycle.ShareApprovals(request, window) {
		role := EmergencyRole
		if !quorum.Emergency {
			role = quorum.Roles[0]
		}
		missing[role] += int(quorum.Missing())
	}
	return missing
}
