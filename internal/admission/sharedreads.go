package admission

import (
	"context"
	"fmt"
	"reflect"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SharedReads is a Reader for the webhooks that lets the validating webhook
// answer from what the mutating webhook read moments before for the same
// update. The API server calls both for one change, each with an admission
// UID of its own, and the validating webhook decides a command again with
// the same reads (namespace, policies, window): sharing them halves what a
// command costs the API server. Reads are shared only between the two calls
// for one command on one request by one person (the request's stored
// resourceVersion, its name and the user), for a few seconds; every other
// read (a creation's, a spec change's: their lists of RBAC objects can be
// large), and every read that failed, goes to the Reader.
type SharedReads struct {
	reader client.Reader
	ttl    time.Duration
	reads  *cache.LRUExpireCache
}

// sharedReadEntries bounds the reads remembered: a command makes a handful,
// and an expired read stays until its place is needed.
const sharedReadEntries = 1024

// NewSharedReads shares reader's answers for ttl by clock.
func NewSharedReads(reader client.Reader, ttl time.Duration, clock clock.PassiveClock) *SharedReads {
	return &SharedReads{reader: reader, ttl: ttl, reads: cache.NewLRUExpireCacheWithClock(sharedReadEntries, clock)}
}

type sharedReadsScope struct{}

// withSharedReads scopes the reads made with ctx to the update of stored by
// user: both webhooks' calls for one update share that scope.
func withSharedReads(ctx context.Context, stored client.Object, user authenticationv1.UserInfo) context.Context {
	scope := fmt.Sprintf("update %s/%s@%s|%s|%s", stored.GetNamespace(), stored.GetName(), stored.GetResourceVersion(), user.Username, user.UID)
	return context.WithValue(ctx, sharedReadsScope{}, scope)
}

// Get implements client.Reader.
func (s *SharedReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	// The kind as well as the type: metadata-only reads share one type.
	read := fmt.Sprintf("get %T %s %s %v", obj, obj.GetObjectKind().GroupVersionKind(), key, opts)
	return s.read(ctx, read, obj, func() error { return s.reader.Get(ctx, key, obj, opts...) })
}

// List implements client.Reader.
func (s *SharedReads) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	listOptions := (&client.ListOptions{}).ApplyOptions(opts)
	read := fmt.Sprintf("list %T %s %s %+v", list, list.GetObjectKind().GroupVersionKind(), listOptions.Namespace, *listOptions.AsListOptions())
	return s.read(ctx, read, list, func() error { return s.reader.List(ctx, list, opts...) })
}

// read answers into from what was read in the same scope, else reads.
func (s *SharedReads) read(ctx context.Context, read string, into runtime.Object, fresh func() error) error {
	scope, scoped := ctx.Value(sharedReadsScope{}).(string)
	if !scoped {
		return fresh()
	}
	key := scope + "|" + read
	if kept, ok := s.reads.Get(key); ok {
		copyInto(into, kept.(runtime.Object).DeepCopyObject())
		return nil
	}
	if err := fresh(); err != nil {
		return err
	}
	s.reads.Add(key, into.DeepCopyObject(), s.ttl)
	return nil
}

// copyInto sets into to value, of the same type (the key names the type).
func copyInto(into, value runtime.Object) {
	reflect.ValueOf(into).Elem().Set(reflect.ValueOf(value).Elem())
}
