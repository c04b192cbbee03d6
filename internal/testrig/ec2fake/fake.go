// Package ec2fake provides an in-memory fake of the EC2 (and Recycle Bin)
// API surface that package ebs uses, and a conformance suite (RunSuite)
// that runs the same behaviours against the fake and against moto.
//
// The fake exists because moto cannot serve fleet-scale tests (it slows down
// past ~2k tagged snapshots), ignores MaxResults, NextToken and OwnerIds on
// DescribeSnapshots, and cannot backdate a snapshot. The conformance suite
// keeps the two honest with each other.
package ec2fake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ebs-snapper/ebs-snapper/internal/ebs"
	"github.com/ebs-snapper/ebs-snapper/internal/inventory"
)

// AccountID owns everything the fake creates; it is moto's account too.
const AccountID = "123456789012"

// defaultRegions is what DescribeRegions returns until SetRegions: a few
// real regions, fewer than moto's 38, enough for fan-out tests.
var defaultRegions = []string{"ap-southeast-2", "eu-central-1", "eu-west-1", "us-east-1", "us-east-2", "us-west-2"}

// Operation names, as Calls, Fail and OnCall spell them.
const (
	OpDescribeRegions   = "DescribeRegions"
	OpDescribeInstances = "DescribeInstances"
	OpDescribeVolumes   = "DescribeVolumes"
	OpDescribeSnapshots = "DescribeSnapshots"
	OpDescribeImages    = "DescribeImages"
	OpCreateSnapshot    = "CreateSnapshot"
	OpCreateSnapshots   = "CreateSnapshots"
	OpCopySnapshot      = "CopySnapshot"
	OpDeleteSnapshot    = "DeleteSnapshot"
	// OpModifySnapshotTier is the archive call, which moto lacks.
	OpModifySnapshotTier = "ModifySnapshotTier"
)

// Fake is an in-memory EC2 for one region. The zero value is ready to use
// and safe for concurrent use; set Now and OnCall before the first call.
type Fake struct {
	// Now stamps the StartTime of created snapshots; nil means time.Now.
	Now func() time.Time
	// OnCall, when set, runs at the start of every call (after Fail's
	// queue) with the operation name and its *ec2.XInput; a non-nil error
	// is returned as the call's result and the call has no effect.
	OnCall func(op string, input any) error
	// PendingFor keeps the snapshots the fake creates (CreateSnapshot,
	// CreateSnapshots, CopySnapshot) pending until Now reaches their
	// StartTime plus PendingFor; zero completes them at once, as moto
	// does. Set it before the first call and keep it: snapshots complete
	// in the order they were created.
	PendingFor time.Duration

	mu        sync.Mutex
	regions   []string
	instances table[inventory.Instance]
	volumes   table[inventory.Volume]
	snapshots table[ownedSnapshot]
	images    table[image]
	inUse     map[string]string // snapshot id → id of an AMI it backs
	locks     map[string]snapshotLock
	templates []LaunchTemplate
	rules     []inventory.RecycleBinRule
	faults    map[string][]fault
	calls     map[string]int
	nextID    uint64
	// peers are the fakes of the other regions, by region name, that
	// CopySnapshot reads its source from (see Link).
	peers map[string]*Fake
	// pending lists the ids of created snapshots still pending, oldest
	// first, with the time each completes.
	pending []pendingSnapshot
}

// Link makes the fakes one account across regions: a CopySnapshot in any of
// them reads its SourceRegion's snapshot from the fake of that region.
// Ids stay distinct across the linked fakes because each numbers its own
// from a different offset.
func Link(fakes map[string]*Fake) {
	offset := uint64(0)
	for _, region := range slices.Sorted(maps.Keys(fakes)) {
		f := fakes[region]
		f.mu.Lock()
		f.peers = fakes
		f.nextID += offset
		f.mu.Unlock()
		offset += 1 << 40
	}
}

type pendingSnapshot struct {
	id  string
	due time.Time
}

var _ ebs.EC2API = (*Fake)(nil)

// Unpaced returns the ebs.Options of an SDK client (ebs.NewForRegion, over
// InProcess or a proxy) in a test that counts calls, not time:
// CreateSnapshot, CreateSnapshots and DeleteSnapshot take no token from a
// rate limiter; the Describe calls keep the bucket table's rates. A client
// straight over a Fake (ebs.New) paces nothing and needs no options.
func Unpaced() ebs.Options {
	return ebs.Options{Rates: map[string]float64{"CreateSnapshot": ebs.Unlimited, "CreateSnapshots": ebs.Unlimited, "DeleteSnapshot": ebs.Unlimited}}
}

type ownedSnapshot struct {
	inventory.Snapshot
	owner string
	// kmsKeyID is the key of an encrypted copy ("" when unencrypted).
	kmsKeyID string
}

type image struct {
	id        string
	snapshots []string
	disabled  bool
}

type fault struct {
	times int
	err   error
}

// AddInstance seeds an instance (State defaults to running). Its volumes
// that were not added with AddVolume are created, untagged.
func (f *Fake) AddInstance(inst inventory.Instance) {
	mustID("instance", inst.ID)
	if inst.State == "" {
		inst.State = "running"
	}
	inst.Tags = slices.Clone(inst.Tags)
	inst.VolumeIDs = slices.Clone(inst.VolumeIDs)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances.put(inst.ID, inst)
	for _, v := range inst.VolumeIDs {
		if _, ok := f.volumes.get(v); !ok {
			f.volumes.put(v, inventory.Volume{ID: v, Type: defaultVolumeType})
		}
	}
}

// defaultVolumeType is what EC2 (and moto) report for a volume created
// without a type.
const defaultVolumeType = "gp2"

// AddVolume seeds a volume, or replaces one with the same id; Type
// defaults to gp2.
func (f *Fake) AddVolume(v inventory.Volume) {
	mustID("volume", v.ID)
	if v.Type == "" {
		v.Type = defaultVolumeType
	}
	v.Tags = slices.Clone(v.Tags)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.volumes.put(v.ID, v)
}

// AddSnapshot seeds a snapshot exactly as given (this is how tests
// backdate StartTime); State defaults to completed and owner to AccountID.
// Its volume need not exist, like a snapshot of a deleted volume.
func (f *Fake) AddSnapshot(s inventory.Snapshot, owner string) {
	mustID("snapshot", s.ID)
	if s.State == "" {
		s.State = inventory.StateCompleted
	}
	if owner == "" {
		owner = AccountID
	}
	s.Tags = slices.Clone(s.Tags)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snapshots.put(s.ID, ownedSnapshot{Snapshot: s, owner: owner})
}

// AddImage seeds an AMI owned by AccountID, backed by the given snapshots:
// they cannot be deleted (InvalidSnapshot.InUse). AMIs are never
// deregistered: the fake models no DeregisterImage.
func (f *Fake) AddImage(amiID string, snapshotIDs ...string) {
	mustID("image", amiID)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images.put(amiID, image{id: amiID, snapshots: slices.Clone(snapshotIDs)})
	if f.inUse == nil {
		f.inUse = map[string]string{}
	}
	for _, s := range snapshotIDs {
		f.inUse[s] = amiID
	}
}

// SetRegions sets what DescribeRegions returns.
func (f *Fake) SetRegions(regions ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.regions = slices.Clone(regions)
}

// Fail makes the next times calls of op fail with err, after any failures
// queued before for op. For a throttle:
//
//	f.Fail(ec2fake.OpDeleteSnapshot, 2, &smithy.GenericAPIError{Code: "RequestLimitExceeded"})
func (f *Fake) Fail(op string, times int, err error) {
	if times <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults == nil {
		f.faults = map[string][]fault{}
	}
	f.faults[op] = append(f.faults[op], fault{times: times, err: err})
}

// Calls is how many calls of op reached the fake, failed ones included
// (calls made with an already-cancelled context are not counted).
func (f *Fake) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// AllCalls returns the call counts of every operation called so far.
func (f *Fake) AllCalls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// Snapshot returns a snapshot of any owner by id.
func (f *Fake) Snapshot(id string) (inventory.Snapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	s, ok := f.snapshots.get(id)
	s.Tags = slices.Clone(s.Tags)
	return s.Snapshot, ok
}

// Snapshots returns every snapshot of any owner, in creation order.
func (f *Fake) Snapshots() []inventory.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	all := f.snapshots.all()
	out := make([]inventory.Snapshot, len(all))
	for i, s := range all {
		out[i] = s.Snapshot
		out[i].Tags = slices.Clone(s.Tags)
	}
	return out
}

// begin runs the bookkeeping common to every call: cancellation, the call
// count, queued failures and the OnCall hook. A non-nil error is the
// call's result.
func (f *Fake) begin(ctx context.Context, op string, input any) error {
	if err := ctx.Err(); err != nil {
		return opError(op, err)
	}
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	f.settle()
	var injected error
	if q := f.faults[op]; len(q) > 0 {
		injected = q[0].err
		if q[0].times--; q[0].times <= 0 {
			f.faults[op] = q[1:]
		}
	}
	hook := f.OnCall
	f.mu.Unlock()
	if injected != nil {
		return opError(op, injected)
	}
	if hook != nil {
		// Called without the lock so that a hook may inspect the fake.
		if err := hook(op, input); err != nil {
			return opError(op, err)
		}
	}
	return nil
}

// newID returns an unused id such as snap-0000000000000001a; ids are
// deterministic so that failures reproduce. Callers hold f.mu.
func (f *Fake) newID(prefix string, taken func(string) bool) string {
	for {
		f.nextID++
		id := fmt.Sprintf("%s-%017x", prefix, f.nextID)
		if !taken(id) {
			return id
		}
	}
}

// created returns the state of a snapshot created now, and queues it to
// complete after PendingFor. Callers hold f.mu.
func (f *Fake) created(id string, start time.Time) string {
	if f.PendingFor <= 0 {
		return inventory.StateCompleted
	}
	f.pending = append(f.pending, pendingSnapshot{id: id, due: start.Add(f.PendingFor)})
	return inventory.StatePending
}

// settle completes the pending snapshots whose time has come. Callers
// hold f.mu.
func (f *Fake) settle() {
	if len(f.pending) == 0 {
		return
	}
	now := f.now()
	n := 0
	for ; n < len(f.pending) && !now.Before(f.pending[n].due); n++ {
		id := f.pending[n].id
		if s, ok := f.snapshots.get(id); ok && s.State == inventory.StatePending {
			s.State = inventory.StateCompleted
			f.snapshots.put(id, s)
		}
	}
	f.pending = f.pending[n:]
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// opError wraps err as the SDK does, so messages read like real ones
// ("operation error EC2: DeleteSnapshot, api error ...").
func opError(op string, err error) error {
	return &smithy.OperationError{ServiceID: "EC2", OperationName: op, Err: err}
}

func apiError(code, format string, args ...any) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

func mustID(kind, id string) {
	if id == "" {
		panic("ec2fake: seeding a " + kind + " with an empty id")
	}
}
