package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The metrics of golive's endpoint the report reads: controller-runtime's
// reconciles and work queues, client-go's requests (by method and code:
// client-go has no resource label; the audit log has), Go's heap, the
// process's CPU time.
const (
	metricReconciles     = "controller_runtime_reconcile_total"
	metricReconcileTime  = "controller_runtime_reconcile_time_seconds"
	metricQueueDepth     = "workqueue_depth"
	metricWorkers        = "controller_runtime_max_concurrent_reconciles"
	metricQueueDuration  = "workqueue_queue_duration_seconds"
	metricQueueAdds      = "workqueue_adds_total"
	metricClientRequests = "rest_client_requests_total"
	metricHeapInuse      = "go_memstats_heap_inuse_bytes"
	metricCPU            = "process_cpu_seconds_total"
	// metricHeapGoal is the heap size at which the next GC runs: twice the
	// heap live after the last GC, with GOGC=100 as golive runs.
	metricHeapGoal = "go_memstats_next_gc_bytes"
)

// series is one flattened sample: a counter's or gauge's value, or a
// histogram's _sum or _count.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

// metricSample is a scrape of golive's metrics endpoint, flattened.
type metricSample []series

// scrape reads golive's metrics endpoint.
func scrape(ctx context.Context, url string) (metricSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return nil, err
	}
	defer func() { _ = response.Body.Close() }()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, response.Status)
	}
	return parseMetrics(response.Body)
}

// parseMetrics flattens the Prometheus text format.
func parseMetrics(in io.Reader) (metricSample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(in)
	if err != nil {
		return nil, fmt.Errorf("parsing the metrics: %w", err)
	}
	var sample metricSample
	for name, family := range families {
		for _, metric := range family.GetMetric() {
			labels := map[string]string{}
			for _, pair := range metric.GetLabel() {
				labels[pair.GetName()] = pair.GetValue()
			}
			switch family.GetType() {
			case dto.MetricType_COUNTER:
				sample = append(sample, series{name, labels, metric.GetCounter().GetValue()})
			case dto.MetricType_GAUGE:
				sample = append(sample, series{name, labels, metric.GetGauge().GetValue()})
			case dto.MetricType_HISTOGRAM:
				sample = append(sample,
					series{name + "_sum", labels, metric.GetHistogram().GetSampleSum()},
					series{name + "_count", labels, float64(metric.GetHistogram().GetSampleCount())})
			case dto.MetricType_UNTYPED:
				sample = append(sample, series{name, labels, metric.GetUntyped().GetValue()})
			}
		}
	}
	return sample, nil
}

// by sums the series of name by the values of the labels named, joined
// with "/"; series without name are left out.
func (s metricSample) by(name string, labelNames ...string) map[string]float64 {
	result := map[string]float64{}
	for _, one := range s {
		if one.name != name {
			continue
		}
		values := make([]string, len(labelNames))
		for i, label := range labelNames {
			values[i] = one.labels[label]
		}
		result[strings.Join(values, "/")] += one.value
	}
	return result
}

// has is whether the sample holds any series of name.
func (s metricSample) has(name string) bool {
	return slices.ContainsFunc(s, func(one series) bool { return one.name == name })
}

// total sums every series of name.
func (s metricSample) total(name string) float64 {
	sum := 0.0
	for _, value := range s.by(name) {
		sum += value
	}
	return sum
}

// delta is after less before, by key: what a counter counted in between.
func delta(before, after map[string]float64) map[string]float64 {
	result := map[string]float64{}
	for key, value := range after {
		if d := value - before[key]; d != 0 {
			result[key] = d
		}
	}
	return result
}

// scaled divides every figure by n.
func scaled(figures map[string]float64, n float64) map[string]float64 {
	result := make(map[string]float64, len(figures))
	for key, value := range figures {
		result[key] = value / n
	}
	return result
}

// add adds b's figures to a's.
func add(a, b map[string]float64) map[string]float64 {
	result := maps.Clone(a)
	if result == nil {
		result = map[string]float64{}
	}
	for key, value := range b {
		result[key] += value
	}
	return result
}

// memory is a process's resident memory, from /proc/<pid>/status.
type memory struct {
	// RSS is the resident set now (VmRSS), HWM its peak so far (VmHWM), in bytes.
	RSS, HWM uint64
}

// readMemory reads VmRSS and VmHWM of process pid.
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer func() { _ = f.Close() }()
	var m memory
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		field, value, found := strings.Cut(scanner.Text(), ":")
		if !found || (field != "VmRSS" && field != "VmHWM") {
			continue
		}
		kib, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status %s: %w", pid, field, err)
		}
		if field == "VmRSS" {
			m.RSS = kib * 1024
		} else {
			m.HWM = kib * 1024
		}
	}
	if err := scanner.Err(); err != nil {
		return memory{}, err
	}
	if m.RSS == 0 || m.HWM == 0 {
		return memory{}, fmt.Errorf("/proc/%d/status has no VmRSS or VmHWM", pid)
	}
	return m, nil
}

// auditEvent is what the report reads of a kube-apiserver audit event
// (audit.k8s.io/v1 Event, level Metadata).
type auditEvent struct {
	Stage string `json:"stage"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	RequestReceivedTimestamp metav1.MicroTime `json:"requestReceivedTimestamp"`
}

// apiCall names a kind of API request: verb and resource.
type apiCall struct {
	Verb string
	// Resource is group/resource[/subresource], "core" for the core group;
	// a non-resource URL is "-".
	Resource string
}

// writeVerbs are the verbs that change something.
var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

func (c apiCall) write() bool { return slices.Contains(writeVerbs, c.Verb) }

// workloadPatch is whether the call changes a workload golive updates: the
// release itself, which the floor does too.
func (c apiCall) workloadPatch() bool {
	return c.write() && strings.HasPrefix(c.Resource, "apps/") && !strings.HasSuffix(c.Resource, "/status")
}

// background is whether the call is leader election's lease renewal, made
// every few seconds whatever golive is doing.
func (c apiCall) background() bool { return c.Resource == "coordination.k8s.io/leases" }

// countAudit counts user's requests in the audit log at path received in
// [from, to), by verb and resource. A request counts once: when its
// response completed, or, for a watch, when its response started.
func countAudit(path, user string, from, to time.Time) (map[apiCall]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	defer func() { _ = f.Close() }()
	counts := map[apiCall]int{}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for scanner.Scan() {
		var event auditEvent
		if err := json.Unmarshal(scanner.Bytes(), &event); err != nil {
			return nil, fmt.Errorf("the audit log %s: %w", path, err)
		}
		if event.User.Username != user {
			continue
		}
		counted := "ResponseComplete"
		if event.Verb == "watch" {
			counted = "ResponseStarted"
		}
		if event.Stage != counted {
			continue
		}
		at := event.RequestReceivedTimestamp.Time
		if at.Before(from) || !at.Before(to) {
			continue
		}
		counts[apiCall{Verb: event.Verb, Resource: resourceOf(event)}]++
	}
	if err := scanner.Err(); err != nil {
		return nil, errors.Join(fmt.Errorf("reading the audit log %s", path), err)
	}
	return counts, nil
}

func resourceOf(event auditEvent) string {
	ref := event.ObjectRef
	if ref == nil {
		return "-"
	}
	group := ref.APIGroup
	if group == "" {
		group = "core"
	}
	resource := group + "/" + ref.Resource
	if ref.Subresource != "" {
		resource += "/" + ref.Subresource
	}
	return resource
}
